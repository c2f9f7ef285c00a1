"""Shared test helpers: paths to the third-party oracles, tool requirements, Hypothesis profiles.

Nothing the suite needs may silently skip in CI (CI=true, exported by .ci/run): a missing tool or
a missing ../shared fails there, and skips with its reason only on a developer's machine. A test
marked ``tshark`` gets ``require_tool("tshark")`` before it runs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
THIRD_PARTY = SHARED / "captures" / "third-party"
SAMPLES = ROOT / "sample-captures"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Hypothesis: property tests that leave max_examples to the profile get 150 random examples on a
# developer's machine (new seeds each run, failures replayed from .hypothesis/) and, in CI, 600
# derandomised ones: the same examples on every run, so CI cannot pass by luck. A failure found
# anywhere is added to its test as an @example (see tests/engine/test_robustness.py).
settings.register_profile("dev", max_examples=150, deadline=None)
settings.register_profile("ci", max_examples=600, deadline=None, derandomize=True, database=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def require_tool(name: str) -> str:
    """Path of an external tool; fail in CI when missing, skip with a reason elsewhere."""
    path = shutil.which(name)
    if path:
        return path
    if IN_CI:
        pytest.fail(f"{name} is required in CI but is not installed (scripts/test.sh installs it)")
    pytest.skip(f"{name} is not installed")


def require_shared() -> Path:
    """The third-party oracle captures; fail in CI when missing, skip with a reason elsewhere."""
    if THIRD_PARTY.is_dir():
        return THIRD_PARTY
    if IN_CI:
        pytest.fail(f"third-party captures missing at {THIRD_PARTY} (CI needs ../shared beside the clone)")
    pytest.skip("../shared/captures/third-party is not beside the repository")


def shared_params(paths: list[Path]) -> list[Path] | list[object]:
    """Parameters of a test over third-party captures. Without ../shared the list would be empty
    and pytest (empty_parameter_set_mark = fail_at_collect) would stop the whole session, so one
    placeholder stands in; the test's require_shared() then fails in CI and skips elsewhere."""
    if paths or THIRD_PARTY.is_dir():
        return paths
    return [pytest.param(THIRD_PARTY / "missing", id="third-party-captures-missing")]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("tshark") is not None:
        require_tool("tshark")
