"""Engine facts the mutation run on the merged code showed unpinned (issue 16): BUL intervals are
half-open, a processed BU's results say what the node accepted, a retransmission names its
exchange. Expected values from RFC 6275 / RFC 5648 as cited, not from the engine's output."""

from __future__ import annotations

from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.engine.retention import forget_before
from tests.engine.helpers import CN, COA1, HA, HOA, ba, bid, bu, count, run


def processed(engine: object) -> list[ev.BindingUpdateProcessed]:
    return [e for e in engine.events if isinstance(e, ev.BindingUpdateProcessed)]  # type: ignore[attr-defined]


def test_bul_entry_is_gone_at_exactly_its_end() -> None:
    # BID 1 registered (BA 0.1), de-registered (BU Lifetime 0 at 10.0, BA at 10.1): [start, end)
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)), ba(0.1, seq=1, bids=(bid(1),)),
            bu(10.0, seq=2, lifetime=0, bids=(bid(1),)), ba(10.1, seq=2, lifetime=0, bids=(bid(1),)), end=20)
    [row] = e.bul()
    assert row.end is not None and 0.0 <= row.start < row.end <= 10.1
    assert len(e.state_at(row.end - 0.01).bul) == 1
    assert e.state_at(row.end).bul == ()


def test_accepted_deregistration_without_bid_is_reported_accepted() -> None:
    # RFC 6275 §9.5.1 / RFC 5648 §6.2: a Lifetime-0 BU without BID option removes every binding;
    # BA status 0 means the HA accepted it
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)), ba(0.1, seq=1, bids=(bid(1),)),
            bu(5.0, seq=2, lifetime=0), ba(5.1, seq=2, lifetime=0), end=10)
    last = processed(e)[-1]
    facts = [(r.bid, r.status, r.accepted, r.action) for r in last.results]
    assert facts == [(None, 0, True, "deregistered")]


def test_bid_bu_over_a_regular_binding_is_not_accepted() -> None:
    # RFC 5648 §6.2: a BID BU while a binding without BID exists -> NON-MCOA BINDING EXISTS (165)
    e = run(bu(0.0, seq=1), ba(0.1, seq=1),
            bu(1.0, seq=2, bids=(bid(1, COA1),)), ba(1.1, seq=2, status=165, bids=(bid(1, status=165),)),
            end=5)
    results = processed(e)[-1].results
    assert results and all(not r.accepted for r in results)
    assert [r.status for r in results] == [165] * len(results)


def test_retransmission_names_the_exchange() -> None:
    # the same BU (HoA, HA, seq 1) sent twice before any BA: attempt 2 of the exchange
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)), bu(1.0, seq=1, bids=(bid(1, COA1),)),
            ba(1.1, seq=1, bids=(bid(1),)), end=5)
    [r] = [x for x in e.events if isinstance(x, ev.RetransmissionSeen)]
    assert (r.attempt, r.key.node, r.key.hoa, r.key.seq) == (2, HA, HOA, 1)


def test_retention_keeps_the_last_bu_and_ba_of_each_bid() -> None:
    # docs/engine.md retention: aged messages are dropped except the newest BU and BA of each
    # node, HoA and BID, so a live view still shows what set up the bindings held
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)), ba(0.1, seq=1, bids=(bid(1),)),
            bu(1.0, seq=2, bids=(bid(2, COA1),)), ba(1.1, seq=2, bids=(bid(2),)),
            bu(6.0, seq=3, bids=(bid(1, COA1),)), ba(6.1, seq=3, bids=(bid(1),)))
    forget_before(e, 5.0)
    assert e.messages_aged == 4
    assert sorted((m["type"], m["seq"]) for m in e.messages()) == \
        [("BA", 1), ("BA", 2), ("BA", 3), ("BU", 1), ("BU", 2), ("BU", 3)]


def test_capture_end_before_the_last_packet_does_not_move_time_back() -> None:
    # the last message was at 10.1 s; an end mark of 5 s (e.g. a stale live-capture stop time)
    # leaves the engine's latest time at 10.1
    e = run(bu(10.0, seq=1, bids=(bid(1, COA1),)), ba(10.1, seq=1, bids=(bid(1),)), end=5.0)
    assert e.last_time == 10.1


def test_plain_fast_path_rows_are_not_mobile_traffic() -> None:
    # a native row CN -> HoA (no tunnel, no HAO, no type 2 header) reached the MN on its home
    # link: it belongs to no binding, whereas the same flow tunnelled to CoA 1 does
    for via, outer, expected in (("plain", None, 0), ("tunnel", COA1, 3)):
        e = BindingEngine()
        for p in (bu(0.0, seq=1, bids=(bid(1, COA1),)), ba(0.1, seq=1, bids=(bid(1),))):
            e.feed(p)
        e.feed_traffic([count(1.0, via=via, packets=3, nbytes=300, src=CN, dst=HOA,
                              outer_src=HA if outer else None, outer_dst=outer)])
        e.finish(2.0)
        assert sum(r["packets"] for r in e.traffic()) == expected
