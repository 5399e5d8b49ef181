"""No served process accepts a secret written in the source (the development defaults once did)."""

from __future__ import annotations

import httpx
import pytest

from fleet.processes import fleet, fleet_ingress
from tests.helpers import schedule_webhook, signed_headers

pytestmark = pytest.mark.e2e

PUBLISHED = "dev-only-ashby-webhook-secret-not-for-production"


async def test_an_ingress_without_secrets_accepts_no_published_signature(redis_url: str) -> None:
    from datetime import UTC, datetime

    body = schedule_webhook(updated_at=datetime.now(UTC), events=[])
    async with fleet_ingress({"REDIS_URL": redis_url, "ENVIRONMENT": "development"}) as (ingress, url):
        async with httpx.AsyncClient(base_url=url) as client:
            response = await client.post("/webhooks/ashby", content=body, headers=signed_headers(body, PUBLISHED))
        assert response.status_code == 401
        await ingress.stop()
        output = await ingress.output()
    assert "secrets_generated" in output and "ASHBY_WEBHOOK_SECRET" in output


async def test_a_published_secret_is_refused_at_start_naming_the_variable(redis_url: str) -> None:
    env = {"REDIS_URL": redis_url, "ENVIRONMENT": "development", "ASHBY_WEBHOOK_SECRET": PUBLISHED}
    async with fleet("ingress", env=env) as ingress:
        assert await ingress.process.wait() == 2
        output = await ingress.output()
    assert "ASHBY_WEBHOOK_SECRET: this value is published in the project's source; set your own" in output
