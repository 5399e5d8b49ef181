"""Stored Ashby incremental-sync tokens, one per synced list; replaced only after a completed pass."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def get(pool: asyncpg.Pool, name: str) -> str | None:
    token: str | None = await pool.fetchval("SELECT sync_token FROM ashby_sync_tokens WHERE name = $1", name)
    return token


async def put(pool: asyncpg.Pool, name: str, token: str | None, *, full_sync: bool, now: datetime) -> None:
    await pool.execute(
        "INSERT INTO ashby_sync_tokens (name, sync_token, full_sync, synced_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (name) DO UPDATE SET sync_token = excluded.sync_token, full_sync = excluded.full_sync, "
        "synced_at = excluded.synced_at",
        name,
        token,
        full_sync,
        now,
    )


async def ages(pool: asyncpg.Pool, *, now: datetime) -> dict[str, float]:
    """Seconds since each synced list (and the rules' catalog) last completed a pass."""
    rows = await pool.fetch(
        "SELECT name, synced_at FROM ashby_sync_tokens UNION ALL SELECT 'catalog', synced_at FROM ashby_catalog_syncs"
    )
    return {row["name"]: max(0.0, (now - row["synced_at"]).total_seconds()) for row in rows}
