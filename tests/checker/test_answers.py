"""History rules that judge one answered BU at a time (``checker.answers``): the streaming checker
runs them as the engine emits each outcome and keeps a BU packet only while its BU is pending.
Their findings must be what the batch form (the judge mapped over the whole history) finds:
``builders.check`` compares both on every rule test; here on every sample capture, and what the
streaming checker holds on to."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcoaviz.checker import Checker
from mcoaviz.checker.answers import ANSWER, OUTCOME, PerAnswer, PerOutcome
from mcoaviz.checker.context import CheckerConfig, HistoryContext
from mcoaviz.checker.registry import BY_CODE, HISTORY, RULES
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.pipeline import AnalysisOptions, Pipeline, run_pipeline
from mcoaviz.sources import open_capture
from tests.checker import builders as b

SAMPLES = sorted(p for p in (Path(__file__).resolve().parents[2] / "sample-captures").glob("*.pcap*"))
# the rules written as one judge per answer / per outcome (a change here is a deliberate one)
PER_ANSWER = {"MCOA120", "MCOA301", "MCOA302", "MCOA303", "MCOA304", "MCOA305", "MCOA306", "MCOA319",
              "MCOA704", "MCOA705", "MCOA713", "MCOA714"}
PER_OUTCOME = {"MCOA208", "MCOA209", "MCOA402", "MCOA708", "MCOA904"}


def test_the_registry_says_which_rules_judge_one_answer() -> None:
    assert {r.code for r in RULES if r.unit == ANSWER} == PER_ANSWER
    assert {r.code for r in RULES if r.unit == OUTCOME} == PER_OUTCOME
    for code in PER_ANSWER | PER_OUTCOME:
        rule = BY_CODE[code]
        assert rule.kind == HISTORY
        assert isinstance(rule.check, PerAnswer | PerOutcome)
        assert rule.doc.startswith("What:"), code  # the judge's docstring is the rule's


def test_the_streaming_checker_splits_the_history_rules() -> None:
    batch, streaming = Checker(), Checker(streaming=True)
    assert {r.code for r in batch._history_rules} >= PER_ANSWER | PER_OUTCOME
    assert {r.code for r in streaming._answer_rules} == PER_ANSWER
    assert {r.code for r in streaming._outcome_rules} == PER_OUTCOME
    assert not {r.code for r in streaming._history_rules} & (PER_ANSWER | PER_OUTCOME)


def test_the_batch_form_maps_the_judge_over_the_answers() -> None:
    seen: list[tuple[int, int, int]] = []

    def judge(p, bu, ba, ctx):  # type: ignore[no-untyped-def]
        seen.append((p.bu_frame, bu.frame, ba.frame))
        return []

    packets = b.number([b.bu(1, b.bid(1, b.COA1)), b.ba(1, b.bid(1)), b.bu(2, b.bid(1, b.COA1)),
                        b.ba(2, b.bid(1))])
    engine = BindingEngine()
    for p in packets:
        engine.feed(p)
    ctx = HistoryContext(engine.events, {p.frame: p for p in packets}, CheckerConfig())
    assert PerAnswer(judge)(ctx) == []
    assert seen == [(1, 1, 2), (3, 3, 4)]


def test_a_per_answer_hit_is_found_when_the_ba_arrives() -> None:
    # MCOA302: the BA does not copy BID 2 of its bulk BU
    packets = b.number([b.bu(1, b.bid(1, b.COA1), b.bid(2, b.COA2)), b.ba(1, b.bid(1))])
    engine, checker = BindingEngine(), Checker(CheckerConfig(select=("MCOA302",)), streaming=True)
    checker.observe(packets[0], engine.feed(packets[0]))
    assert checker._pending.keys() == {1} and checker._judged == []
    checker.observe(packets[1], engine.feed(packets[1]))
    assert [(rule.code, hit.frame, hit.bid) for rule, hit, _ in checker._judged] == [("MCOA302", 2, 2)]
    assert checker._pending == {}  # answered: the BU packet is not held for this rule any more
    assert [(f.rule, f.frame) for f in checker.finish(engine)] == [("MCOA302", 2)]


def test_a_bu_without_an_answer_is_dropped_at_its_outcome() -> None:
    # no A flag: the engine concludes at the BU itself; an unanswered one when it gives up
    packets = b.number([b.bu(1, b.bid(1, b.COA1), flags="H"), b.bu(2, b.bid(1, b.COA1))])
    engine, checker = BindingEngine(), Checker(streaming=True)
    checker.observe(packets[0], engine.feed(packets[0]))
    assert checker._pending == {}
    checker.observe(packets[1], engine.feed(packets[1]))
    assert checker._pending.keys() == {2}
    checker.observe_traffic([], engine.finish(2000.0))
    assert checker._pending == {}


def finished(path: Path, history: str) -> list[dict[str, object]]:
    pipeline = Pipeline(AnalysisOptions(history=history, stream=True), name=str(path))
    with open_capture(path) as capture:
        analysis = run_pipeline(pipeline, capture)
    assert pipeline.checker is not None and pipeline.checker.streaming == (history == "read")
    if history == "read":
        assert pipeline.checker._pending == {}, "every BU the engine concluded is let go"
    return analysis.findings


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_streaming_finds_what_the_batch_finds_on_every_sample(path: Path) -> None:
    assert finished(path, "read") == finished(path, "all")
