"""The published Ashby spec, loaded once; the contract tests skip (saying why) when the handout is absent."""

from __future__ import annotations

import pytest

from tests.contract.openapi import SPEC_PATH, Contract


@pytest.fixture(scope="session")
def contract() -> Contract:
    if not SPEC_PATH.is_file():
        pytest.skip(f"Ashby's OpenAPI spec is not at {SPEC_PATH} (the read-only handout beside the repository)")
    return Contract.load()
