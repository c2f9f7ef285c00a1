"""``AnalysisOptions.history="read"`` (what export, analyse and check use): the engine keeps only
the event kinds the checker's remaining history rules read, the latencies table is made as the
events arrive (``LatencyFold``), and the export is the same, byte for byte, as with every event
kept (issue 8, memory)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mcoaviz.checker import Checker
from mcoaviz.checker.registry import RULES, SEEN_KINDS, kinds_read
from mcoaviz.engine import events as ev
from mcoaviz.engine.events import BidResult
from mcoaviz.engine.keys import ExchangeKey
from mcoaviz.export import write_json
from mcoaviz.pipeline import AnalysisOptions, Pipeline, analyse, run_pipeline
from mcoaviz.sources import open_capture
from mcoaviz.timings import LatencyFold, iter_latencies

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "sample-captures").glob("*.pcap*"))


def exported(path: Path, history: str) -> tuple[str, list[object]]:
    analysis = analyse(path, AnalysisOptions(stream=True, history=history))
    out = io.StringIO()
    write_json(analysis, out)
    return out.getvalue(), list(analysis.events)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_narrowed_history_exports_the_same(path: Path) -> None:
    everything, all_events = exported(path, "all")
    narrowed, kept = exported(path, "read")
    assert narrowed == everything
    # what the remaining batch rules read and what the per-key rules read at the end; the kinds
    # only per-key states are fed (e.g. HomeNdOwner) are not kept
    allowed = Checker(streaming=True).kept_kinds
    assert allowed < kinds_read(RULES)
    assert all(e.__class__ in allowed for e in kept)
    assert kept == [e for e in all_events if e.__class__ in allowed
                    and (not isinstance(e, ev.MessageSeen) or e.kind in SEEN_KINDS)]


def test_narrowed_history_drops_what_nobody_reads() -> None:
    path = next(p for p in SAMPLES if p.name == "brr-rfc5648.pcapng")
    _, all_events = exported(path, "all")
    _, kept = exported(path, "read")
    dropped = {e.__class__ for e in all_events} - {e.__class__ for e in kept}
    assert {ev.BulEntryChanged, ev.BindingRefreshed} <= dropped
    assert len(kept) < len(all_events)


def test_the_latencies_made_as_events_arrive_match_those_from_every_event() -> None:
    rows = 0
    for path in SAMPLES:
        every = Pipeline(AnalysisOptions(), name=str(path))
        with open_capture(path) as capture:
            run_pipeline(every, capture)
        expected = list(iter_latencies(every.engine.events))
        narrowed = Pipeline(AnalysisOptions(history="read"), name=str(path))
        with open_capture(path) as capture:
            analysis = run_pipeline(narrowed, capture)
        fold = analysis.latency_fold
        assert fold is not None and fold.closed
        assert list(iter_latencies([], fold)) == expected, path.name
        assert not fold._queue and not fold._by_frame  # every BU decided at the end
        rows += len(expected)
    assert rows > 50  # the samples do exercise the table


KEY = ExchangeKey("ha", "hoa", 1)


def seen(frame: int, t: float, seq: int = 1) -> ev.MessageSeen:
    return ev.MessageSeen(t, frame, ExchangeKey("ha", "hoa", seq), "BU", 0, "coa", "ha", "hoa", "ha", seq,
                          (1,), role="home-agent")


def answered(bu_frame: int, bu_t: float, ba_frame: int, t: float, seq: int = 1) -> ev.BindingUpdateProcessed:
    return ev.BindingUpdateProcessed(
        time=t, frame=ba_frame, key=ExchangeKey("ha", "hoa", seq), role="home-agent", bu_frame=bu_frame,
        bu_time=bu_t, ba_frame=ba_frame, requested_lifetime=100, granted_lifetime=100, ba_status=0,
        ack_requested=True, regular=False, bulk=False, overwrite=False, deregistration=False,
        legacy_receiver=False, confirmed=True, results=(BidResult(1, "coa", None, 0, True, "started"),),
        dialect="rfc5648")


def test_a_row_is_written_when_its_ba_comes_and_not_before() -> None:
    fold = LatencyFold()
    fold.observe([seen(1, 10.0)])
    assert len(fold) == 0 and len(fold._queue) == 1  # waiting for its BA
    fold.observe([answered(1, 10.0, 2, 10.5)])
    assert len(fold) == 1 and not fold._queue and not fold._by_frame
    (row,) = iter_latencies([], fold)
    assert (row["bu_frame"], row["ba_frame"], row["latency"], row["outcome"]) == (1, 2, 0.5, "answered")


def test_an_unanswered_bu_holds_the_rows_behind_it_until_evidence_can_no_longer_apply_it() -> None:
    fold = LatencyFold()
    fold.observe([seen(1, 0.0), ev.UnansweredBU(0.0, 1, KEY, (1,), 100, "timeout", 5.0)])
    fold.observe([seen(3, 20.0, seq=2), answered(3, 20.0, 4, 20.1, seq=2)])
    assert len(fold) == 0 and len(fold._queue) == 2  # row 3's attempts depend on row 1's fate
    fold.observe([seen(5, 160.0, seq=3)])  # 0 + 100 s lifetime + 60 s margin not yet past
    assert len(fold) == 0
    fold.observe([answered(5, 160.0, 6, 160.5, seq=3)])  # t = 160.5 > 160
    rows = list(iter_latencies([], fold))
    assert [(r["bu_frame"], r["outcome"], r["attempts"]) for r in rows] == [
        (1, "timeout", 1), (3, "answered", 2), (5, "answered", 1)]  # 3 retried 1 (same chain)
    assert not fold._queue and not fold._unanswered


def test_closing_decides_every_waiting_bu() -> None:
    fold = LatencyFold()
    fold.observe([seen(1, 0.0), seen(2, 1.0, seq=2)])
    assert len(fold) == 0
    fold.close()
    assert [(r["bu_frame"], r["outcome"]) for r in iter_latencies([], fold)] == [
        (1, "unanswered"), (2, "unanswered")]


def test_history_must_be_all_or_read() -> None:
    with pytest.raises(ValueError, match="history"):
        Pipeline(AnalysisOptions(history="some"))
