"""Per-CoA traffic attribution: tunnels, route optimisation, DSMIPv6 UDP, NEMO, fast-path rows."""

from __future__ import annotations

from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine
from tests.engine.helpers import CN, COA1, COA2, HA, HOA, ba, bid, bu, count, data, mnp, run

REG = (bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), o_header=True),
       ba(0.1, seq=1, bids=(bid(1), bid(2))))


def _rows(engine: BindingEngine) -> set[tuple[object, ...]]:
    return {(t["node"], t["hoa"], t["coa"], t["bid"], t["direction"], t["via"], t["packets"], t["bytes"])
            for t in engine.traffic()}


def test_tunnel_both_directions_per_coa() -> None:
    e = run(*REG,
            data(1.0, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst=COA1, size=100),
            data(1.5, via="tunnel", src=HOA, dst=CN, outer_src=COA2, outer_dst=HA, size=80),
            data(1.7, via="tunnel", src=HOA, dst=CN, outer_src=COA2, outer_dst=HA, size=80))
    assert _rows(e) == {(HA, HOA, COA1, 1, "to-mn", "tunnel", 1, 100),
                        (HA, HOA, COA2, 2, "from-mn", "tunnel", 2, 160)}


def test_route_optimised_hao_is_from_the_mn_and_rh2_to_it() -> None:
    reg = (bu(0.0, seq=1, flags="A", dst=CN, bids=(bid(1, COA1),)), ba(0.1, seq=1, src=CN, bids=(bid(1),)))
    e = run(*reg, data(1.0, via="route-optimised", src=COA1, dst=CN, hao=HOA, size=90),
            data(1.2, via="route-optimised", src=CN, dst=COA1, rh2=HOA, size=70))
    assert _rows(e) == {(CN, HOA, COA1, 1, "from-mn", "route-optimised", 1, 90),
                        (CN, HOA, COA1, 1, "to-mn", "route-optimised", 1, 70)}


def test_dsmipv6_udp_uses_the_ipv4_coa_and_the_ha_ipv4_alias() -> None:
    reg = (bu(0.0, seq=1, src=HOA, hao=False, tunnel="udp", outer_src="198.51.100.7",
              outer_dst="192.0.2.1", bids=(bid(4, "198.51.100.7"),)),
           ba(0.1, seq=1, dst=HOA, rh2=False, bids=(bid(4),)))
    e = run(*reg, data(1.0, via="udp", src=CN, dst=HOA, outer_src="192.0.2.1", outer_dst="198.51.100.7"))
    assert _rows(e) == {(HA, HOA, "198.51.100.7", 4, "to-mn", "udp", 1, 1000)}


def test_nemo_prefix_hosts_count_for_the_mobile_router() -> None:
    reg = (bu(0.0, seq=1, bids=(bid(1, COA1),), options=(mnp("2001:db8:99::"),)),
           ba(0.1, seq=1, bids=(bid(1),)))
    e = run(*reg, data(1.0, via="tunnel", src=CN, dst="2001:db8:99::5", outer_src=HA, outer_dst=COA1))
    assert _rows(e) == {(HA, HOA, COA1, 1, "to-mn", "tunnel", 1, 1000)}


def test_signalling_and_plain_packets_are_not_traffic() -> None:
    e = run(*REG, data(1.0, via="plain", src=CN, dst=HOA))
    assert e.traffic() == []


def test_fast_path_rows_are_attributed_with_per_second_bins() -> None:
    e = BindingEngine()
    for p in REG:
        e.feed(p)
    e.feed_traffic([count(5.2, via="tunnel", packets=10, nbytes=5000, src=CN, dst=HOA, outer_src=HA,
                          outer_dst=COA1, last=5.9),
                    count(6.0, via="tunnel", packets=4, nbytes=2000, src=CN, dst=HOA, outer_src=HA,
                          outer_dst=COA1, last=6.5)])
    e.finish(7.0)
    assert _rows(e) == {(HA, HOA, COA1, 1, "to-mn", "tunnel", 14, 7000)}
    assert [(b["second"], b["packets"]) for b in e.traffic_bins()] == [(5, 10), (6, 4)]
    assert (e.traffic()[0]["first"], e.traffic()[0]["last"]) == (5.2, 6.5)


def test_data_to_a_coa_without_binding_is_flagged_once() -> None:
    packets = [data(1.0 + i / 10, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst="2001:db8:9::1")
               for i in range(5)]
    e = run(*REG, *packets)
    flagged = [x for x in e.events if isinstance(x, ev.DataWithoutBinding)]
    assert [(x.coa, x.reason) for x in flagged] == [("2001:db8:9::1", "unregistered-coa")]
    assert _rows(e) == {(HA, HOA, "2001:db8:9::1", None, "to-mn", "tunnel", 5, 5000)}


def test_fold_before_keeps_totals_and_bounds_the_bins() -> None:
    from mcoaviz.engine.traffic import TrafficTable

    table = TrafficTable()
    key = (0, "ha", "hoa", "coa", 1, "to-mn", "tunnel")
    for second in range(1000, 3000):
        table.add(key, 2, 200, float(second), float(second), second)
    assert table.fold_before(2500) == 1499  # seconds 1000..2498 join the bin at 2499
    seconds = table.bins[key]
    assert len(seconds) == 501
    assert seconds[2499] == [3000, 300000]
    assert sum(p for p, _ in seconds.values()) == 4000
    assert table.rows()[0]["packets"] == 4000
    assert table.fold_before(2500) == 0  # nothing older left


def test_the_run_of_unbound_data_ends_with_its_last_packet() -> None:
    packets = [data(1.0 + i / 10, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst="2001:db8:9::1")
               for i in range(5)]
    packets.append(data(1.45, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst="2001:db8:9::1",
                        interface=1))  # the same data seen at a second capture point: not counted twice
    e = run(*REG, *packets)
    ended = [x for x in e.events if isinstance(x, ev.DataWithoutBindingEnded)]
    assert [(x.first_time, x.first_frame, x.time, x.frame, x.packets, x.coa) for x in ended] == [
        (1.0, packets[0].frame, 1.4, packets[4].frame, 5, "2001:db8:9::1")]


def test_the_flow_memo_keeps_recent_flows_in_two_bounded_generations(monkeypatch) -> None:
    """``_attribute``'s memo (slow-path data) keeps two generations of LOCATE_MEMO_LIMIT flows; a flow
    found in the older one is not located again; the counts do not depend on the bound."""
    import mcoaviz.engine.engine as engine_module

    peers = [f"2001:db8:c::{i}" for i in range(1, 6)]

    def walk(limit: int) -> tuple[BindingEngine, list[tuple[str, ...]]]:
        monkeypatch.setattr(engine_module, "LOCATE_MEMO_LIMIT", limit)
        e = BindingEngine()
        for p in REG:
            e.feed(p)
        located: list[tuple[str, ...]] = []
        locate = e.attributor.locate

        def spy(*addressing):  # type: ignore[no-untyped-def]
            located.append(addressing[3])
            return locate(*addressing)

        monkeypatch.setattr(e.attributor, "locate", spy)
        order = [0, 1, 2, 1, 3, 4, 0, 4, 4, 2]  # peers by index, one slow-path packet each
        for t, i in enumerate(order):
            e.feed(data(1.0 + t, via="tunnel", src=peers[i], dst=HOA, outer_src=HA, outer_dst=COA1,
                        size=100))
            assert len(e._locate_memo) <= limit and len(e._locate_older) <= limit
        e.finish(20.0)
        return e, located

    small, located = walk(2)
    big, everything_once = walk(1 << 13)
    assert _rows(small) == _rows(big) == {(HA, HOA, COA1, 1, "to-mn", "tunnel", 10, 1000)}
    assert small.traffic_bins() == big.traffic_bins()
    assert everything_once == [peers[i] for i in (0, 1, 2, 3, 4)]
    # generations of 2: [0 1] -> older, [2 1(from older)] -> older, [3 4] -> older, then 0 is
    # located again (gone), 4 comes from the older generation, 2 is located again
    assert located == [peers[i] for i in (0, 1, 2, 3, 4, 0, 2)]


def test_the_fast_path_flow_memo_is_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``feed_traffic``'s located flows start over at FLOW_MEMO_LIMIT; the counts stay."""
    import mcoaviz.engine.engine as engine_module

    peers = [f"2001:db8:c::{i}" for i in range(1, 8)]

    def walk(limit: int) -> BindingEngine:
        monkeypatch.setattr(engine_module, "FLOW_MEMO_LIMIT", limit)
        e = BindingEngine()
        for p in REG:
            e.feed(p)
        for t in range(20):
            e.feed_traffic([count(1.0 + t, via="tunnel", packets=2, nbytes=200, src=peers[t % 7], dst=HOA,
                                  outer_src=HA, outer_dst=COA1)])
            assert len(e._flows) <= limit
        e.finish(30.0)
        return e

    small, big = walk(3), walk(1 << 15)
    assert _rows(small) == _rows(big) == {(HA, HOA, COA1, 1, "to-mn", "tunnel", 40, 4000)}
    assert small.traffic_bins() == big.traffic_bins()
