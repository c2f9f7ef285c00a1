"""Every sample capture: exported bindings, BUL and traffic equal NAME.truth.json (times within
1 ms). sample-captures/ is iterated at test time; every simulator scenario is also run fresh, so
the engine is held to the simulator's truth even before (or beyond) the committed samples.

Captures with deliberately injected messages (truth ``violations`` non-empty) are compared
strictly on bindings and traffic. Their BUL truth only follows the simulated MN's own state
machine, which hand-made messages bypass, while the engine reads every BU/BA the MN sent or
received; there every truth BUL row must be found by identity and interval (extra engine rows
for the injected messages are allowed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dissector.codepoints import Dialect
from mcoaviz.pipeline import AnalysisOptions, analyse
from tests.engine.samples import load_truth, sample_files, simulated
from tests.engine.truth_compare import compare, diff_table

BUL_IDENTITY = ("hoa", "peer", "peer_role", "bid", "coa", "start", "end", "end_reason")


def _check(path: Path, truth: dict[str, Any]) -> None:
    analysis = analyse(path, AnalysisOptions(run_checker=False))
    if truth["dialect"] == "mixed":  # mobile nodes of both dialects: every pair of each MN in its own
        expected = {row["hoa"]: row["dialect"] for row in truth["dialects"]}
        got = {(row["hoa"], row["peer"]): row["dialect"] for row in analysis.dialects}
        assert {hoa for hoa, _ in got} == set(expected)
        assert {pair: expected[pair[0]] for pair in got} == got, analysis.dialects
    else:
        assert analysis.capture["dialect"] == truth["dialect"], analysis.capture["dialect_reason"]
    diffs = compare(analysis, truth)
    if truth.get("violations"):
        missing = [d for d in diff_table(analysis.bul, truth["bul"], BUL_IDENTITY) if d.startswith("missing")]
        diffs["bul"] = missing
    assert diffs == {"bindings": [], "bul": [], "traffic": []}


SAMPLES = sample_files()


@pytest.mark.parametrize("capture", SAMPLES, ids=lambda p: p.name)
def test_sample_capture_matches_its_truth(capture: Path) -> None:
    _check(capture, load_truth(capture))


def _scenarios() -> list[tuple[str, Dialect]]:
    from mcoaviz.simulate.scenarios import load_all

    return [(name, d) for name, spec in sorted(load_all().items()) for d in spec.dialects]


@pytest.mark.parametrize(("name", "dialect"), _scenarios(), ids=lambda v: getattr(v, "value", v))
def test_simulated_scenario_matches_its_truth(name: str, dialect: Dialect, tmp_path: Path) -> None:
    path, truth = simulated(name, dialect, tmp_path)
    _check(path, truth)


# Seeds of the simulator's random walk; 9 and 19 once caught false "pre-existing" bindings
# (data in flight to a CoA after its binding ended, or from a CoA before its BA).
WALK_SEEDS = (1, 2, 3, 4, 9, 19)


@pytest.mark.parametrize("dialect", [Dialect.RFC5648, Dialect.DRAFT05], ids=lambda d: d.value)
@pytest.mark.parametrize("seed", WALK_SEEDS)
def test_random_walk_matches_its_truth(seed: int, dialect: Dialect, tmp_path: Path) -> None:
    from mcoaviz.simulate.scenarios import load_all

    assert "random-walk" in load_all()
    path, truth = simulated("random-walk", dialect, tmp_path, seed=seed)
    _check(path, truth)
