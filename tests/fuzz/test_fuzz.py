"""The fuzz harness (fuzz/): every crasher it found replays cleanly, and CI runs a short slice."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz.run import Recorder, run_builtin
from fuzz.seeds import all_seeds, capture_files
from fuzz.targets import one_input
from tests.conftest import IN_CI

CRASHERS = sorted((Path(__file__).parent / "crashers").iterdir())
SLICE_RUNS = 3000  # about 10 s; the 1 M run is `python -m fuzz.run --builtin --runs 1000000`


@pytest.mark.parametrize("path", CRASHERS, ids=[p.name for p in CRASHERS])
def test_crasher_replays_without_error(path: Path) -> None:
    one_input(path.read_bytes())


def test_the_crashers_are_there() -> None:
    assert len(CRASHERS) == 3


def test_seeds_come_from_the_sample_and_third_party_captures() -> None:
    files = capture_files()
    if not any("third-party" in str(p) for p in files) and not IN_CI:
        pytest.skip("third-party captures are not beside the repository")
    seeds = all_seeds()
    assert len(files) >= 38
    assert {seed[0] for seed in seeds} == {0, 1, 2, 3}  # every mode of the target is seeded


def test_a_short_fuzz_slice_finds_nothing_and_stays_small(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "crashers", tmp_path / "stats.json", rss_limit_mb=1024)
    run_builtin(recorder, one_input, all_seeds(), SLICE_RUNS, seed=13, max_len=16384)
    summary = recorder.summary()
    assert summary["executions"] == SLICE_RUNS
    assert summary["signatures"] == {}
    assert not (tmp_path / "crashers").exists()
