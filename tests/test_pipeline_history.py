"""``AnalysisOptions.history="read"`` (what export, analyse and check use): the engine keeps only
the event kinds the checker's rules and the latencies table read, and the export is the same,
byte for byte, as with every event kept (issue 8, memory)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mcoaviz.checker.registry import RULES, SEEN_KINDS, kinds_read
from mcoaviz.engine import events as ev
from mcoaviz.engine.keys import BulKey
from mcoaviz.export import write_json
from mcoaviz.pipeline import AnalysisOptions, Pipeline, analyse, run_pipeline
from mcoaviz.sources import open_capture
from mcoaviz.timings import SentCoas, iter_latencies

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
    # a whole-file run folds the latencies table as the events come (LatencyFold): only the
    # rules' kinds and sightings are kept
    allowed = kinds_read(RULES)
    seen = SEEN_KINDS
    assert all(e.__class__ in allowed for e in kept)
    assert kept == [e for e in all_events if e.__class__ in allowed
                    and (not isinstance(e, ev.MessageSeen) or e.kind in seen)]


def test_narrowed_history_drops_what_nobody_reads() -> None:
    path = next(p for p in SAMPLES if p.name == "brr-rfc5648.pcapng")
    _, all_events = exported(path, "all")
    _, kept = exported(path, "read")
    dropped = {e.__class__ for e in all_events} - {e.__class__ for e in kept}
    assert {ev.BulEntryChanged, ev.BindingRefreshed} <= dropped
    assert len(kept) < len(all_events)
    assert {ev.BindingUpdateProcessed, ev.MessageSeen, ev.BindingStarted} <= {e.__class__ for e in kept}


def test_latencies_from_the_fold_match_those_from_every_event() -> None:
    rows = 0
    for path in SAMPLES:
        pipeline = Pipeline(AnalysisOptions(), name=str(path))
        fold = SentCoas()
        with open_capture(path) as capture:
            run_pipeline(pipeline, capture)
        events = pipeline.engine.events
        fold.observe(events)
        kept = [e for e in events if e.__class__ in SentCoas.READS]
        expected = list(iter_latencies(events))
        assert list(iter_latencies(kept, fold)) == expected, path.name
        rows += len(expected)
    assert rows > 50  # the samples do exercise the table


def test_sent_coas_keeps_the_last_coa_per_bid_in_first_seen_order() -> None:
    fold = SentCoas()
    key = BulKey("hoa", "ha", 1)

    def change(kind: str, bid: int, coa: str, frame: int | None = 7) -> ev.BulEntryChanged:
        return ev.BulEntryChanged(1.0, frame, BulKey(key.hoa, key.peer, bid), kind, coa, 1, 60)

    fold.observe([change("sent", 2, "a"), change("refreshed", 1, "b"), change("sent", 2, "c"),
                  change("acknowledged", 1, "x"), change("sent", 3, "d", frame=None)])
    assert fold.get(7) == {2: "c", 1: "b"} and list(fold.get(7)) == [2, 1]
    assert fold.get(8) == {} and len(fold) == 1


def test_history_must_be_all_or_read() -> None:
    with pytest.raises(ValueError, match="history"):
        Pipeline(AnalysisOptions(history="some"))
