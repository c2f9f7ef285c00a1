"""HistoryContext's shared event index: ``of`` and ``in_order`` select by type (subclasses
included) and keep processing order; ``answered`` pairs BU and BA packets."""

from __future__ import annotations

from mcoaviz.checker import CheckerConfig
from mcoaviz.checker.context import HistoryContext
from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine
from tests.checker.builders import CN, COA1, COA2, HA, HOA, HOA2, ba, bid, bu, number


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


def test_covering_finds_the_bindings_of_a_hoa_and_coa_at_any_node_at_a_time() -> None:
    # HA: BID 1 -> CoA 1 from the BA at 1002 until BID 1 moves to CoA 2 at 1004 (then expires at 2000);
    # CN: BID 1 -> CoA 1 from 1006
    ctx, _events = _context(bu(1, bid(1, COA1)), ba(1, bid(1)), bu(2, bid(1, COA2)), ba(2, bid(1)),
                            bu(3, bid(1, COA1), dst=CN, flags="A"), ba(3, bid(1), src=CN))
    assert ctx.covering(1001.5, hoa=HOA, coa=COA1) == []
    covered = ctx.covering(1003.0, hoa=HOA, coa=COA1)
    assert [(k.node, s, e) for k, _c, s, e in covered] == [(HA, 1002.0, 1004.0)]
    assert ctx.covering(1004.0, hoa=HOA, coa=COA1) == []  # the end is exclusive
    assert [k.node for k, _c, _s, _e in ctx.covering(1007.0, hoa=HOA, coa=COA1)] == [CN]
    assert [(k.node, c) for k, c, _s, _e in ctx.covering(1007.0, hoa=HOA, coa=COA2)] == [(HA, COA2)]
    assert ctx.covering(1007.0, hoa=HOA2, coa=COA1) == []
    assert ctx.held_since(node=HA, hoa=HOA) == 1002.0
    assert ctx.held_since(node=CN, hoa=HOA) == 1006.0
    assert ctx.held_since(node=HA, hoa=HOA2) is None
    assert ctx.first_started_frame[(HOA, COA1)] == 2
    assert ctx.first_started_frame[(HOA, COA2)] == 4
    assert {f: p.bu_frame for f, p in ctx.processed_by_ba.items()} == {2: 1, 4: 3, 6: 5}
