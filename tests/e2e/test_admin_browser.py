"""The dashboard in a real browser: Debian's headless Chromium, driven by Playwright, with JavaScript off.

A real `fleet admin` process on real PostgreSQL and Redis: sign in, read every page, replay a dead letter,
map a person, ask for a resync, sign out. Without /usr/bin/chromium these tests skip and say how to get it.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, Page, async_playwright, expect

from fleet.processes import fleet, wait_until
from shared import jobs
from shared.db import people
from shared.embedded import free_port
from tests.admin_world import DEAD_LETTER_ID, EVIL, seed_admin_world

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "admin-token-for-browser-tests-0123456789"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"no browser at {CHROMIUM}: `apt-get install chromium` (Debian) to run the dashboard's browser tests",
    ),
]


@pytest.fixture
async def admin_url(db_url: str, db_pool: asyncpg.Pool, redis_url: str, redis: aioredis.Redis) -> AsyncIterator[str]:
    await seed_admin_world(db_pool, now=datetime.now(UTC))
    port = free_port()
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "ADMIN_TOKEN": TOKEN,
        "LOG_LEVEL": "WARNING",
    }
    async with fleet("admin", "--port", str(port), env=env) as process:
        url = f"http://127.0.0.1:{port}"

        async def healthy() -> bool:
            if process.process.returncode is not None:
                raise RuntimeError(f"fleet admin exited early:\n{await process.output()}")
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(url + "/health")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(healthy, what="fleet admin to answer /health")
        yield url
        # A graceful stop: uvicorn finishes its shutdown, then re-raises SIGTERM as its exit status.
        assert await process.stop() in (0, -signal.SIGTERM)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, admin_url: str) -> AsyncIterator[Page]:
    # JavaScript off: every page must work without it (and there is none to run).
    context = await browser.new_context(base_url=admin_url, java_script_enabled=False)
    opened = await context.new_page()
    yield opened
    await context.close()


async def sign_in(page: Page) -> None:
    await page.goto("/dead-letters")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    await page.get_by_label("Admin token").fill(TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Dead letters")  # back where it was going


async def test_sign_in_and_read_every_page(page: Page) -> None:
    await page.goto("/")
    await page.get_by_label("Admin token").fill("not-the-token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("That is not the admin token.")
    await sign_in(page)
    cookie = next(c for c in await page.context.cookies() if c["name"] == "fleet_admin_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    await page.get_by_role("link", name="Overview").click()
    tiles = page.locator(".tiles")
    await expect(tiles).to_contain_text("2reminders sent")
    await expect(tiles).to_contain_text("80%feedback complete")
    await expect(tiles).to_contain_text("2people unmatched in Slack")
    await expect(tiles).to_contain_text("1decisions awaiting approval")
    chart = page.get_by_role("img", name="Median time to feedback per week (hours)")
    await expect(chart).to_be_visible()
    assert await chart.locator("rect").count() == 2  # the two weeks with feedback

    visits = {
        "Reminders": ["failed:channel_not_found", "feedback_received"],
        "Feedback": ["Technical interview", "Alice Tester", f"Culture {EVIL}"],
        "People": ["dave@example.com", "no email in Ashby"],
        "Decisions": ["onsite-bar v3", "every score is 3 or more"],
        "Rules": ["onsite-bar"],
        "Dead letters": ["send_reminder", "Permanent:channel_not_found"],
    }
    for link, texts in visits.items():
        await page.get_by_role("link", name=link, exact=True).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(link)
        main = page.locator("main")
        for text in texts:
            await expect(main).to_contain_text(text)
    await page.get_by_role("link", name="Decisions").click()
    await page.locator("summary", has_text="evidence").click()  # <details> opens without JavaScript
    await expect(page.locator("main pre")).to_contain_text('"alice": 4')

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    await page.goto("/people")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


async def test_replay_a_dead_letter(page: Page, db_pool: asyncpg.Pool, redis: aioredis.Redis) -> None:
    await sign_in(page)
    row = page.get_by_role("row").filter(has_text="send_reminder")
    await row.get_by_role("button", name="Replay").click()
    await expect(page.get_by_role("status")).to_have_text(f"Dead letter {DEAD_LETTER_ID} is queued again.")
    await expect(page.locator("main")).to_contain_text("No dead letters.")
    job_id = await db_pool.fetchval("SELECT replay_job_id FROM dead_letters WHERE id = $1", DEAD_LETTER_ID)
    assert job_id is not None and await redis.zscore(jobs.QUEUE_DEFAULT, job_id) is not None


async def test_map_a_person(page: Page, db_pool: asyncpg.Pool) -> None:
    await sign_in(page)
    await page.get_by_role("link", name="People").click()
    dave = page.get_by_role("row").filter(has_text="dave@example.com")
    await dave.get_by_label("Slack user id").fill("u0dave1")
    await dave.get_by_label("Time zone").fill("Europe/Berlin")
    await dave.get_by_role("button", name="Map").click()
    await expect(page.get_by_role("status")).to_contain_text("mapped to Slack by hand")
    await expect(page.locator("main")).not_to_contain_text("dave@example.com")
    mapped = await people.get(db_pool, "dave")
    assert mapped is not None and (mapped.slack_user_id, mapped.tz, mapped.override) == (
        "U0DAVE1",
        "Europe/Berlin",
        True,
    )

    await page.get_by_label("Ashby user id").fill("frank")
    await page.locator("main > form").get_by_label("Slack user id").fill("not a slack id")
    await page.locator("main > form").get_by_role("button", name="Map").click()
    await expect(page.get_by_role("alert")).to_contain_text("A Slack user id looks like")
    assert await people.get(db_pool, "frank") is None


async def test_resync_from_the_overview(page: Page, redis: aioredis.Redis) -> None:
    await sign_in(page)
    await page.get_by_role("link", name="Overview").click()
    await page.get_by_role("button", name="Resync from Ashby now").click()
    await expect(page.get_by_role("status")).to_contain_text("are queued")
    queued = {m.decode() for m in await redis.zrange(jobs.QUEUE_DEFAULT, 0, -1)}
    assert queued == {f"admin:resync:{jobs.RECONCILE_SCHEDULES}", f"admin:resync:{jobs.SYNC_FEEDBACK}"}
