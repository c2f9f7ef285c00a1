"""HistoryContext's shared event index: ``of`` and ``in_order`` select by type (subclasses
included) and keep processing order; ``answered`` pairs BU and BA packets."""

from __future__ import annotations

from mcoaviz.checker import CheckerConfig
from mcoaviz.checker.context import HistoryContext
from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine
from tests.checker.builders import COA1, COA2, ba, bid, bu, number


def _context(*packets):  # noqa: ANN002, ANN202 - test shorthand
    engine = BindingEngine()
    numbered = number(packets)
    events: list[object] = []
    for p in numbered:
        events.extend(engine.feed(p))
    events.extend(engine.finish(2000.0))
    return HistoryContext(events, {p.frame: p for p in numbered}, CheckerConfig()), events


def test_in_order_interleaves_the_kinds_asked_for_in_processing_order() -> None:
    ctx, events = _context(bu(1, bid(1, COA1)), ba(1, bid(1)), bu(2, bid(1, COA2)), ba(2, bid(1)))
    wanted = [e for e in events if isinstance(e, (ev.BindingStarted, ev.BindingEnded))]
    assert list(ctx.in_order(ev.BindingStarted, ev.BindingEnded)) == wanted
    # BID 1 moved from CoA 1 to CoA 2 (the old binding is replaced first), then expired at the end
    assert [type(e).__name__ for e in wanted] == ["BindingStarted", "BindingReplaced", "BindingStarted",
                                                  "BindingExpired"]
    assert ctx.of(ev.BindingEnded) == tuple(e for e in events if isinstance(e, ev.BindingEnded))
    assert ctx.in_order(ev.DataWithoutBinding) == ()


def test_answered_pairs_each_bu_with_its_ba_packet() -> None:
    ctx, _events = _context(bu(1, bid(1, COA1)), ba(1, bid(1)), bu(2, bid(2, COA2)))
    assert [(p.bu_frame, bu_packet.frame, ba_packet.frame) for p, bu_packet, ba_packet in ctx.answered] \
        == [(1, 1, 2)]
