"""CLI tests read plain text: a FORCE_COLOR in the environment (some CI runners set it) must not
turn colour on for them. Tests of colour set it themselves."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
