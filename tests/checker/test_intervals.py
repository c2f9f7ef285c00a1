"""The binding intervals the streaming checker folds as the binding events come
(``checker.intervals``) answer the context's helpers exactly as the event-built ones do."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from mcoaviz.checker import Checker, spill
from mcoaviz.checker.context import CheckerConfig, HistoryContext, UndeclaredRead
from mcoaviz.checker.intervals import BindingIntervals
from mcoaviz.checker.registry import ENDED, INTERVALS, STARTED, kinds_read
from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine
from tests.checker import builders as b

SAMPLES = sorted(p for p in (Path(__file__).resolve().parents[2] / "sample-captures").glob("*.pcap*"))



def answers(ctx: HistoryContext, first_frames: bool = True) -> dict[str, object]:
    """Every helper's answer, asked at every start and end of every interval."""
    rows = ctx.binding_intervals
    times = sorted({t for row in rows for t in row[2:] if t != math.inf})
    pairs = sorted({(k.node, k.hoa) for k, *_ in rows})
    coas = sorted({(k.hoa, c) for k, c, *_ in rows})
    out: dict[str, object] = {
        "intervals": rows,
        "first_started_frame": dict(ctx.first_started_frame) if first_frames else None,
        "pre_existing": ctx.pre_existing_intervals,
        "regular_pairs": ctx.regular_pairs,
        "ends_of": {pair: ctx.ends_of(*pair) for pair in pairs},
        "held_before": {pair: ctx.held_before(node=pair[0], hoa=pair[1]) for pair in pairs},
        "held_since": {pair: ctx.held_since(node=pair[0], hoa=pair[1]) for pair in pairs},
    }
    for t in times:
        for node, hoa in pairs:
            out[f"held_at {t} {node} {hoa}"] = ctx.held_at(t, node=node, hoa=hoa)
        for hoa, coa in coas:
            out[f"held_at {t} {coa}"] = ctx.held_at(t, coa=coa)
            out[f"covering {t} {hoa} {coa}"] = ctx.covering(t, hoa=hoa, coa=coa)
    return out


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_folded_intervals_answer_as_the_events_do(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "BUFFERED", 2)  # the closed intervals go to the fold's file at once
    batch = b.analysed(path, "all")  # the batch checker: helpers built from the events
    streaming = b.analysed(path, "read")  # the streaming checker: folded, no binding event kept
    assert batch.checker is not None and streaming.checker is not None
    events_ctx = batch.checker.history_context(batch.engine)
    folded_ctx = streaming.checker.history_context(streaming.engine)
    assert events_ctx.intervals is None and folded_ctx.intervals is not None
    assert not any(isinstance(e, (ev.BindingStarted, ev.BindingEnded)) for e in folded_ctx.events)
    # the streaming checker does not fold the first frames (no rule reads them): a store that
    # does, fed the same events in the same order, answers those too
    assert answers(folded_ctx, first_frames=False) == answers(events_ctx, first_frames=False)
    with pytest.raises(LookupError, match="first frames"):
        folded_ctx.first_started_frame  # noqa: B018
    full = dataclasses.replace(folded_ctx, intervals=BindingIntervals.of(batch.engine.events))
    assert answers(full) == answers(events_ctx)


def test_the_sample_captures_have_bindings() -> None:
    # the comparison above is not vacuous: most samples hold bindings, some end them
    stores = [BindingIntervals.of(b.analysed(p, "all").engine.events) for p in SAMPLES[:12]]
    assert sum(bool(s.intervals) for s in stores) >= 6
    assert any(s.ends for s in stores) and any(s.first_started_frame for s in stores)


def test_the_fold_follows_starts_and_ends_in_order() -> None:
    engine = BindingEngine()
    packets = b.number([b.bu(1, b.bid(1, b.COA1), at=10.0), b.ba(1, b.bid(1), at=10.5),
                        b.bu(2, b.bid(1, b.COA2), at=20.0), b.ba(2, b.bid(1), at=20.5)])
    events = [e for p in packets for e in engine.feed(p)]
    store = BindingIntervals.of(events)
    rows = [(k.bid, coa, start, end) for k, coa, start, end in store.intervals]
    # BID 1 moved from COA1 to COA2 at the second BA: one closed interval, one open
    assert rows == [(1, b.COA1, 10.5, 20.5), (1, b.COA2, 20.5, math.inf)]
    replaced = [e for ends in store.ends.values() for e in ends]
    assert replaced == [(20.5, "replaced")]  # (time, reason), not the event
    ctx = HistoryContext([], {}, CheckerConfig(), intervals=store)
    key = next(iter(store.intervals))[0]
    assert ctx.held_at(15.0, node=key.node, hoa=key.hoa) == [(key, b.COA1)]
    assert ctx.held_at(25.0, coa=b.COA2) == [(key, b.COA2)]
    assert ctx.held_since(node=key.node, hoa=key.hoa) == 10.5


def test_intervals_read_without_declaring_them_are_caught() -> None:
    store = BindingIntervals()
    undeclared = HistoryContext([], {}, CheckerConfig(), intervals=store,
                                allowed=frozenset({ev.BindingUpdateProcessed}))
    with pytest.raises(UndeclaredRead, match="INTERVALS"):
        undeclared.held_at(1.0, node="a", hoa="b")
    with pytest.raises(UndeclaredRead, match="INTERVALS"):
        HistoryContext([], {}, CheckerConfig(), allowed=STARTED).first_started_frame  # noqa: B018
    # declared: INTERVALS, or both binding kinds (the event-built form)
    assert HistoryContext([], {}, CheckerConfig(), intervals=store, allowed=INTERVALS).binding_intervals == ()
    assert HistoryContext([], {}, CheckerConfig(), allowed=STARTED | ENDED).binding_intervals == ()
    # and declaring INTERVALS does not allow reading the events themselves
    with pytest.raises(UndeclaredRead):
        HistoryContext([], {}, CheckerConfig(), allowed=INTERVALS).of(ev.BindingStarted)


def test_intervals_keep_the_binding_events_only_in_the_batch_form() -> None:
    rule = dataclasses.replace(Checker()._history_rules[0], reads=INTERVALS)
    assert kinds_read([rule]) == frozenset(c for c in ev.EVENT_CLASSES
                                           if issubclass(c, (ev.BindingStarted, ev.BindingEnded)))
    assert kinds_read([rule], folded=True) == frozenset()
