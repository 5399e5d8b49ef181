"""The snapshot helper: only an explicit update writes a snapshot; a missing or changed one fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.snapshots import UPDATE_FLAG, assert_snapshot


def test_a_missing_snapshot_fails_and_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE_FLAG, raising=False)
    path = tmp_path / "missing.json"
    with pytest.raises(pytest.fail.Exception, match="missing"):
        assert_snapshot({"a": 1}, path)
    assert not path.exists()


def test_a_changed_snapshot_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE_FLAG, raising=False)
    path = tmp_path / "changed.json"
    path.write_text('{\n  "a": 1\n}\n', encoding="utf-8")
    assert_snapshot({"a": 1}, path)
    with pytest.raises(AssertionError, match="changed"):
        assert_snapshot({"a": 2}, path)


@pytest.mark.parametrize("flag", ["", "0", "yes"])
def test_only_the_update_flag_set_to_1_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: str) -> None:
    monkeypatch.setenv(UPDATE_FLAG, flag)
    with pytest.raises(pytest.fail.Exception):
        assert_snapshot({"a": 1}, tmp_path / "s.json")


def test_the_update_flag_writes_the_snapshot_that_then_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "nested" / "new.json"
    monkeypatch.setenv(UPDATE_FLAG, "1")
    assert_snapshot({"b": [1, "é"], "a": 1}, path)
    assert path.read_text(encoding="utf-8") == '{\n  "a": 1,\n  "b": [\n    1,\n    "é"\n  ]\n}\n'
    monkeypatch.delenv(UPDATE_FLAG)
    assert_snapshot({"a": 1, "b": [1, "é"]}, path)
