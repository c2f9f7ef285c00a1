"""Fast-path rows into the engine: a flow's attribution is remembered only while it holds.

``BindingEngine.feed_traffic`` locates a flow once and keeps its table cell while the binding
cache's keys of its (node, HoA) are unchanged, and checks time once per batch; these tests
change the bindings (handover, expiry, claimed CoA) between and inside batches and check that
each row still lands where the binding state at its time says.
"""

from __future__ import annotations

from array import array

from mcoaviz.engine import events as ev
from mcoaviz.engine.cache import BindingCache
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.engine.keys import BindingKey
from mcoaviz.engine.traffic import MAX_BIN_POINTS, TrafficTable
from tests.engine.helpers import CN, COA1, COA2, COA3, HA, HOA, ba, bid, bu, count

CN2 = "2001:db8:c::2"
REG = (bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), o_header=True),
       ba(0.1, seq=1, bids=(bid(1), bid(2))))


def _engine(*packets: object) -> BindingEngine:
    e = BindingEngine()
    for p in (*REG, *packets):
        e.feed(p)  # type: ignore[arg-type]
    return e


def _to_mn(first: float, coa: str, packets: int = 1, src: str = CN) -> object:
    return count(first, via="tunnel", packets=packets, nbytes=100 * packets, src=src, dst=HOA,
                 outer_src=HA, outer_dst=coa)


def _totals(e: BindingEngine) -> list[tuple[object, ...]]:
    return [(t["coa"], t["bid"], t["packets"], t["first"], t["last"]) for t in e.traffic()]


def test_a_handover_between_batches_moves_the_flow_off_its_old_key() -> None:
    e = _engine()
    e.feed_traffic([_to_mn(1.0, COA1, 3)])
    # BID 1 moves to COA3: the remembered flow to COA1 no longer holds a binding
    e.feed(bu(2.0, seq=2, bids=(bid(1, COA3),)))
    e.feed(ba(2.1, seq=2, bids=(bid(1),)))
    e.feed_traffic([_to_mn(3.0, COA1, 2), _to_mn(3.5, COA3, 4)])
    e.finish(5.0)
    assert _totals(e) == [(COA1, None, 2, 3.0, 3.0), (COA1, 1, 3, 1.0, 1.0), (COA3, 1, 4, 3.5, 3.5)]
    flagged = [x for x in e.events if isinstance(x, ev.DataWithoutBinding)]
    assert [(x.coa, x.reason, x.time) for x in flagged] == [(COA1, "unregistered-coa", 3.0)]


def test_an_expiry_inside_one_batch_splits_the_flow_at_the_expiry() -> None:
    e = _engine()  # BA lifetime 60 s at 0.1: both bindings expire at 60.1
    e.feed_traffic([_to_mn(30.0, COA1), _to_mn(60.0, COA1), _to_mn(61.0, COA1), _to_mn(62.0, COA1)])
    assert _totals(e) == [(COA1, None, 2, 61.0, 62.0), (COA1, 1, 2, 30.0, 60.0)]
    kinds = [type(x).__name__ for x in e.events if isinstance(
        x, ev.BindingExpired | ev.DataWithoutBinding)]
    assert kinds == ["BindingExpired", "BindingExpired", "DataWithoutBinding"]  # expiry first
    assert e.last_time == 62.0


def test_flows_of_one_key_share_it_and_follow_a_rebinding_together() -> None:
    e = _engine()
    e.feed_traffic([_to_mn(1.0, COA1, 1), _to_mn(1.2, COA1, 2, src=CN2)])
    e.feed(bu(2.0, seq=2, bids=(bid(3, COA1),)))  # COA1 now (also) under BID 3: keys change
    e.feed(ba(2.1, seq=2, bids=(bid(3),)))
    e.feed_traffic([_to_mn(3.0, COA1, 4), _to_mn(3.1, COA1, 8, src=CN2)])
    e.finish(4.0)
    # bind takes the first key (in BID order) whose CoA matches: BID 1 still holds COA1
    assert _totals(e) == [(COA1, 1, 15, 1.0, 3.1)]
    assert [(b["second"], b["packets"]) for b in e.traffic_bins()] == [(1, 3), (3, 12)]


def test_a_deregistration_ends_the_remembered_attribution() -> None:
    e = _engine()
    e.feed_traffic([_to_mn(1.0, COA2)])
    e.feed(bu(2.0, seq=2, lifetime=0, bids=(bid(2),)))  # BID 2 de-registered
    e.feed(ba(2.1, seq=2, lifetime=0, bids=(bid(2),)))
    e.feed_traffic([_to_mn(3.0, COA2, 5)])
    e.finish(4.0)
    assert _totals(e) == [(COA2, None, 5, 3.0, 3.0), (COA2, 2, 1, 1.0, 1.0)]


def test_unattributed_rows_are_counted_each_time() -> None:
    e = _engine()
    stranger = count(1.0, via="tunnel", packets=3, nbytes=300, src=CN, dst="2001:db8:77::1",
                     outer_src=HA, outer_dst=COA1)
    e.feed_traffic([stranger])
    e.feed_traffic([stranger, stranger])
    assert e.traffic_table.unattributed_packets == 9
    assert e.traffic() == []


def test_keys_of_is_a_new_list_when_a_claimed_coa_changes() -> None:
    cache = BindingCache()
    key = BindingKey(HA, HOA, 1)
    cache.start(key, role="home-agent", coa=COA1, time=0.0, frame=1, lifetime=60, expires=60.0,
                home=False, confirmed=True)
    before = cache.keys_of(HA, HOA)
    cache.refresh(key, time=1.0, frame=2, lifetime=60, expires=61.0, confirmed=True)
    assert cache.keys_of(HA, HOA) is before  # a plain refresh changes nothing traffic reads
    cache.refresh(key, time=2.0, frame=3, lifetime=60, expires=62.0, confirmed=True, claimed_coa=COA3)
    after = cache.keys_of(HA, HOA)
    assert after is not before and after == before


def test_a_held_cell_keeps_counting_across_widening_and_folding() -> None:
    table = TrafficTable()
    key = (0, HA, HOA, COA1, 1, "to-mn", "tunnel")
    cell = table.cell(key, 10)
    table.add_to(cell, 1, 100, 10.0, 10.5, 10)
    other = table.cell((0, HA, HOA, COA2, 2, "to-mn", "tunnel"), 11)
    table.add_to(other, 1, 50, 11.0, 11.0, 11)
    far = 10 + MAX_BIN_POINTS  # one bin too many at width 1: the width doubles
    table.add_to(cell, 2, 200, float(far), float(far), far)
    assert table.width == 2
    table.add_to(cell, 4, 400, float(far + 1), float(far + 1), far + 1)  # same 2 s bin
    assert table.series[key] is cell[1]
    assert cell[1] == array("q", (10, 1, 100, far, 6, 600))
    assert table.totals[key] == [7, 700, 10.0, float(far + 1), -1]  # (-1: no bins on file)
    table.fold_before(far)
    table.add_to(cell, 1, 10, float(far + 2), float(far + 2), far + 2)
    assert table.series[key] is cell[1]
    assert cell[1] == array("q", (far - 2, 1, 100, far, 6, 600, far + 2, 1, 10))


def test_a_flow_unattributed_before_signalling_is_located_once_addresses_are_learnt() -> None:
    e = BindingEngine()
    e.feed_traffic([_to_mn(0.5, COA1, 2)])  # no signalling yet: nobody is known as a home agent
    assert e.traffic_table.unattributed_packets == 2
    for p in REG:
        e.feed(p)
    e.feed_traffic([_to_mn(1.0, COA1, 3)])  # the HA and the HoA are known now
    e.finish(2.0)
    assert e.traffic_table.unattributed_packets == 2
    assert _totals(e) == [(COA1, 1, 3, 1.0, 1.0)]


def test_a_prefix_learnt_later_attributes_a_remembered_flow_to_its_mobile_router() -> None:
    from tests.engine.helpers import mnp

    host = "2001:db8:99::5"
    to_host = count(1.0, via="tunnel", packets=1, nbytes=100, src=CN, dst=host, outer_src=HA,
                    outer_dst=COA1)
    e = _engine()
    e.feed_traffic([to_host])  # not a HoA, no prefix yet
    e.feed(bu(2.0, seq=2, bids=(bid(1, COA1),), options=(mnp("2001:db8:99::"),)))
    e.feed(ba(2.1, seq=2, bids=(bid(1),)))
    e.feed_traffic([count(3.0, via="tunnel", packets=4, nbytes=400, src=CN, dst=host, outer_src=HA,
                          outer_dst=COA1)])
    e.finish(4.0)
    assert e.traffic_table.unattributed_packets == 1
    assert _totals(e) == [(COA1, 1, 4, 3.0, 3.0)]
