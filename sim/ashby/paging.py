"""Cursor pagination and syncTokens, as Ashby documents them.

A pass (no cursor) snapshots the matching records; `nextCursor` names (pass, offset), so asking for the
same cursor twice returns the same page. The last page carries a `syncToken` remembering the org's
change counter when the pass began; a later pass with that token returns only records changed since.
Unknown tokens answer `sync_token_invalid`, expired ones `sync_token_expired`, and an incremental pass
larger than `max_incremental` answers `incremental_sync_too_large`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.ashby.failure import ApiFailure

MAX_LIMIT = 100


@dataclass(frozen=True)
class _Pass:
    endpoint: str
    scope: str
    records: list[dict[str, Any]]
    start_seq: int


@dataclass
class _Token:
    endpoint: str
    scope: str
    seq: int
    expired: bool = False


class Pager:
    def __init__(self, new_id: Callable[[], str], *, max_incremental: int = 10_000) -> None:
        self._new_id = new_id
        self.max_incremental = max_incremental
        self._cursors: dict[str, tuple[_Pass, int]] = {}
        self._tokens: dict[str, _Token] = {}

    def expire_tokens(self) -> None:
        for token in self._tokens.values():
            token.expired = True

    def page(
        self,
        endpoint: str,
        scope: str,
        body: Mapping[str, Any],
        select: Callable[[int], list[dict[str, Any]]],
        current_seq: int,
    ) -> dict[str, Any]:
        """One page of `select(since_seq)` (records changed after `since_seq`, already rendered)."""
        limit = body.get("limit", MAX_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int | float) or limit < 1:
            raise ApiFailure("invalid_input", "limit must be a positive number")
        limit = min(int(limit), MAX_LIMIT)
        cursor = body.get("cursor")
        if cursor is not None:
            found = self._cursors.get(cursor) if isinstance(cursor, str) else None
            if found is None or found[0].endpoint != endpoint or found[0].scope != scope:
                raise ApiFailure("invalid_next_cursor", "the cursor does not belong to this list")
            state, offset = found
        else:
            since = self._since(endpoint, scope, body.get("syncToken"))
            records = select(since or 0)
            if since is not None and len(records) > self.max_incremental:
                raise ApiFailure("incremental_sync_too_large", "too many changes: discard the token and sync in full")
            state, offset = _Pass(endpoint, scope, records, current_seq), 0
        chunk = state.records[offset : offset + limit]
        if offset + limit < len(state.records):
            next_cursor = self._new_id()
            self._cursors[next_cursor] = (state, offset + limit)
            return {"results": chunk, "moreDataAvailable": True, "nextCursor": next_cursor}
        sync_token = self._new_id()
        self._tokens[sync_token] = _Token(endpoint, scope, state.start_seq)
        return {"results": chunk, "moreDataAvailable": False, "syncToken": sync_token}

    def _since(self, endpoint: str, scope: str, token: Any) -> int | None:
        if token is None:
            return None
        found = self._tokens.get(token) if isinstance(token, str) else None
        if found is None or found.endpoint != endpoint or found.scope != scope:
            raise ApiFailure("sync_token_invalid", "unknown syncToken for this list: run a full sync")
        if found.expired:
            raise ApiFailure("sync_token_expired", "the syncToken expired: run a full sync")
        return found.seq
