"""Snapshot files for output a person would otherwise eyeball: a missing or changed snapshot fails the test.

Only `UPDATE_SNAPSHOTS=1` in the environment writes them, so deleting a snapshot cannot make its test pass
by comparing the output with itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

UPDATE_FLAG = "UPDATE_SNAPSHOTS"


def assert_snapshot(value: Any, path: Path) -> None:
    """`value` as indented, key-sorted JSON must equal the file at `path`."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get(UPDATE_FLAG) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"snapshot {path.name} is missing; run with {UPDATE_FLAG}=1 to write it, then review it")
    assert path.read_text(encoding="utf-8") == text, f"{path.name} changed; rerun with {UPDATE_FLAG}=1 if intended"
