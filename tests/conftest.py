"""Shared test helpers: paths to the third-party oracles and tool requirements."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
THIRD_PARTY = SHARED / "captures" / "third-party"
SAMPLES = ROOT / "sample-captures"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_tool(name: str) -> str:
    """Path of an external tool; fail in CI when missing, skip with a reason elsewhere."""
    path = shutil.which(name)
    if path:
        return path
    if IN_CI:
        pytest.fail(f"{name} is required in CI but is not installed (scripts/test.sh installs it)")
    pytest.skip(f"{name} is not installed")


def require_shared() -> Path:
    if THIRD_PARTY.is_dir():
        return THIRD_PARTY
    if IN_CI:
        pytest.fail(f"third-party captures missing at {THIRD_PARTY}")
    pytest.skip("../shared/captures/third-party is not beside the repository")
