"""The engine's indexes answer like the scans they replaced (pending BUs, BUL entries,
pre-existing bindings, memoised attribution) and traffic bins stay bounded."""

from __future__ import annotations

from dissector.codepoints import Dialect
from dissector.records import BindingUpdate, MobilityMessage
from mcoaviz.engine import events as ev
from mcoaviz.engine.bul import BulTable
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.engine.keys import BulKey, ExchangeKey, Role
from mcoaviz.engine.pairing import Pairing, PendingBU
from mcoaviz.engine.traffic import MAX_BIN_POINTS, TrafficTable
from tests.engine.helpers import CN, COA1, COA2, HA, HOA, ba, bid, bu, count

KEY = (0, HA, HOA, COA1, 1, "to-mn", "tunnel")


def pending(node: str, hoa: str, seq: int, time: float, bids: tuple[int, ...] = ()) -> PendingBU:
    message = MobilityMessage(offset=54, mh_type=5, type_name="BU", payload_proto=59, header_len=8,
                              checksum=0, checksum_ok=True, body=None,
                              options=tuple(bid(b, COA1) for b in bids))
    body = BindingUpdate(seq=seq, flags_word=0x8000, lifetime=60, flags=("A",))
    return PendingBU(key=ExchangeKey(node, hoa, seq), time=time, frame=seq, bu=body, message=message,
                     role=Role.HOME_AGENT, dialect=Dialect.RFC5648, source_coa=COA1, outer_ipv4=None)


def test_overdue_pending_bus_come_oldest_first_and_only_once() -> None:
    pairing = Pairing()
    for seq, time in [(1, 5.0), (2, 1.0), (3, 3.0), (4, 40.0)]:
        pairing.add(pending(HA, f"2001:db8:1::{seq}", seq, time))
    pairing.take(ExchangeKey(HA, "2001:db8:1::3", 3))  # answered: never overdue
    assert [bu.key.seq for bu in pairing.overdue(38.0, 32.0)] == [2, 1]
    assert pairing.overdue(38.0, 32.0) == []
    assert pairing.next_time() is not None and set(pairing.pending) == {ExchangeKey(HA, "2001:db8:1::4", 4)}


def test_superseded_and_latest_look_only_at_the_same_node_and_home_address() -> None:
    pairing = Pairing()
    mine, other = pending(HA, HOA, 1, 1.0, (1,)), pending(HA, "2001:db8:1::99", 2, 1.5, (1,))
    newer, disjoint = pending(HA, HOA, 3, 2.0, (1, 2)), pending(HA, HOA, 4, 2.5, (3,))
    for waiting in (mine, other, disjoint):
        pairing.add(waiting)
    assert pairing.superseded_by(newer) == [mine]  # BID 1 overlaps; BID 3 does not
    assert pairing.latest_for(HA, HOA) is disjoint
    assert pairing.latest_for(HA, HOA) is None
    assert set(pairing.pending) == {other.key}


def test_traffic_bins_widen_so_a_series_keeps_at_most_max_points() -> None:
    table = TrafficTable()
    seconds = range(1000, 1000 + 3 * MAX_BIN_POINTS)
    for second in seconds:
        table.add(KEY, 1, 100, second + 0.5, second + 0.5, second)
    assert table.width == 4  # 3 x MAX seconds: width 2 would still give 1.5 x MAX bins
    rows = table.bin_rows()
    assert len(rows) <= MAX_BIN_POINTS
    assert sum(r["packets"] for r in rows) == len(seconds)
    assert sum(r["bytes"] for r in rows) == 100 * len(seconds)
    assert all(r["second"] % table.width == 0 and r["width"] == table.width for r in rows)
    assert table.rows()[0]["first"] == 1000.5 and table.rows()[0]["last"] == seconds[-1] + 0.5


def test_short_captures_keep_one_second_bins_in_any_order() -> None:
    table = TrafficTable()
    for second in (50, 10, 30, 10):
        table.add(KEY, 2, 10, float(second), float(second), second)
    assert table.width == 1
    assert [(r["second"], r["packets"]) for r in table.bin_rows()] == [(10, 4), (30, 2), (50, 2)]


def test_an_earlier_bin_outside_the_span_widens_too() -> None:
    table = TrafficTable()
    table.add(KEY, 1, 1, 5000.0, 5000.0, 5000)
    table.add(KEY, 1, 1, 5000.0 - MAX_BIN_POINTS, 0.0, 5000 - MAX_BIN_POINTS)
    assert table.width == 2 and len(table.bin_rows()) == 2


def test_attribution_memo_follows_newly_learnt_home_addresses() -> None:
    """Data seen before the registration that names its HoA is unattributed; after it, the same
    addressing (a memoised flow) is attributed."""
    engine = BindingEngine()
    row = dict(via="tunnel", packets=1, nbytes=10, src=CN, dst=HOA, outer_src=HA, outer_dst=COA1)
    engine.feed_traffic([count(0.5, **row)])
    assert engine.traffic_table.unattributed_packets == 1
    engine.feed(bu(1.0, seq=1, bids=(bid(1, COA1), bid(2, COA2))))
    engine.feed(ba(1.1, seq=1, bids=(bid(1), bid(2))))
    engine.feed_traffic([count(2.5, **row)])
    assert [(t["coa"], t["bid"], t["packets"]) for t in engine.traffic()] == [(COA1, 1, 1)]


def test_expiry_between_rows_is_seen_by_the_next_row() -> None:
    engine = BindingEngine()
    engine.feed(bu(0.0, seq=1, lifetime=8, bids=(bid(1, COA1),)))
    engine.feed(ba(0.1, seq=1, lifetime=8, bids=(bid(1),)))
    row = dict(via="tunnel", packets=1, nbytes=10, src=CN, dst=HOA, outer_src=HA, outer_dst=COA1)
    events = engine.feed_traffic([count(5.0, **row), count(9.0, **row)])
    kinds = [type(e) for e in events if not isinstance(e, ev.BulEntryChanged)]
    assert kinds == [ev.BindingExpired, ev.DataWithoutBinding]
    assert events[0].time == 8.1
    assert {(t["bid"], t["packets"]) for t in engine.traffic()} == {(None, 1), (1, 1)}


def test_first_coa_is_the_oldest_entry_in_force_for_the_home_address_and_bid() -> None:
    """BulTable.first_coa replaces a scan of every entry: same answer, in the same order."""
    table = BulTable()

    def register(peer: str, bid: int, coa: str, t: float) -> None:
        key = BulKey(HOA, peer, bid)
        table.sent(key, coa, peer_role="home-agent", time=t, frame=int(t), seq=int(t), lifetime=100,
                   home=False)
        table.accept(key, coa, time=t, frame=int(t), status=0, lifetime=100, seq=int(t))

    assert table.first_coa(HOA, 1) is None
    register(HA, 1, COA1, 1.0)
    register(CN, 1, COA2, 2.0)
    register(HA, 2, COA2, 3.0)
    assert table.first_coa(HOA, 1) == COA1
    assert table.first_coa(HOA, 2) == COA2
    assert table.first_coa("2001:db8:1::99", 1) is None
    table.end(HOA, HA, [1], "deregistered", time=4.0, frame=4)  # the oldest one goes: the next answers
    assert table.first_coa(HOA, 1) == COA2
    register(HA, 1, COA1, 5.0)  # back, but now the newest
    assert table.first_coa(HOA, 1) == COA2
    table.end(HOA, CN, None, "deregistered", time=6.0, frame=6)
    assert table.first_coa(HOA, 1) == COA1
    table.end(HOA, HA, None, "deregistered", time=7.0, frame=7)
    assert table.first_coa(HOA, 1) is None and table.first_coa(HOA, 2) is None
