"""Committed sample captures equal what the generator produces now (they never go stale)."""

from __future__ import annotations

import pytest

from mcoaviz.simulate.samples import SAMPLE_SEED, readme_text, sample_files
from mcoaviz.simulate.scenarios import run
from mcoaviz.simulate.truth import dump
from tests.conftest import SAMPLES

FILES = sample_files()


@pytest.mark.parametrize(("stem", "name", "dialect"), FILES, ids=[f[0] for f in FILES])
def test_sample_matches_generator(stem: str, name: str, dialect: object) -> None:
    capture = SAMPLES / f"{stem}.pcapng"
    truth = SAMPLES / f"{stem}.truth.json"
    assert capture.exists(), f"{capture.name} missing: run python scripts/make_samples.py"
    result = run(name, seed=SAMPLE_SEED, dialect=dialect)  # type: ignore[arg-type]
    assert capture.read_bytes() == result.pcapng, (
        f"{capture.name} is stale: run python scripts/make_samples.py"
    )
    assert truth.read_text(encoding="utf-8") == dump(result.truth)
    assert len(result.pcapng) < 1_000_000


def test_readme_table_is_current() -> None:
    assert (SAMPLES / "README.md").read_text(encoding="utf-8") == readme_text()


def test_no_stale_sample_files() -> None:
    expected = {f"{stem}.pcapng" for stem, _, _ in FILES}
    assert {p.name for p in SAMPLES.glob("*.pcapng")} == expected
