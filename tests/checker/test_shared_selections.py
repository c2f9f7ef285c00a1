"""Selections several history rules start from, made once per history context (issue 8):
``_common.shared`` / ``carried`` / ``ipv4_bid_carried``, and the rules that read them."""

from __future__ import annotations

from dissector.records import IPv4AddressAck, NATDetection, Packet
from mcoaviz.checker import CheckerConfig
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.rules import bid_state, data_plane, dsmip
from mcoaviz.checker.rules._common import carried, ipv4_bid_carried, shared
from mcoaviz.engine.engine import BindingEngine
from tests.checker.builders import COA1, COA2, COA3, HOA, HOA2, V4COA, ba, bid, bu, number


def history(*packets: Packet, config: CheckerConfig | None = None) -> HistoryContext:
    """The engine's events and the packets by frame, as ``Checker.finish`` hands them to rules."""
    numbered = number(packets)
    engine = BindingEngine()
    for p in numbered:
        engine.feed(p)
    engine.finish(max(p.time for p in numbered) + 1)
    return HistoryContext(list(engine.events), {p.frame: p for p in numbered}, config or CheckerConfig())


def reg(seq: int, *bids, hoa: str = HOA, src: str = COA1) -> list[Packet]:  # noqa: ANN002 - test shorthand
    return [bu(seq, *bids, hoa=hoa, src=src), ba(seq, *[bid(b.bid) for b in bids], hoa=hoa, dst=src)]


def test_shared_builds_once_per_context_and_apart_for_each_context() -> None:
    calls: list[HistoryContext] = []

    def build(ctx: HistoryContext) -> list[int]:
        calls.append(ctx)
        return [len(calls)]

    one, two = history(*reg(1, bid(1, COA1))), history(*reg(1, bid(1, COA1)))
    first = shared(one, build)
    assert shared(one, build) is first and first == [1]
    assert shared(two, build) == [2]
    assert calls == [one, two]


def test_carried_says_which_option_types_some_message_carries() -> None:
    plain = history(*reg(1, bid(1, COA1)))
    assert not carried(plain, IPv4AddressAck) and not carried(plain, NATDetection)
    ack = IPv4AddressAck(offset=0, status=0, prefix_length=24, address="203.0.113.9")
    acked = history(bu(1, bid(1, COA1)), ba(1, ack, bid(1)))
    assert carried(acked, IPv4AddressAck) and not carried(acked, NATDetection)


def test_ipv4_bid_carried_needs_an_ipv4_care_of_address_in_a_bid_option() -> None:
    assert not ipv4_bid_carried(history(*reg(1, bid(1, COA1), bid(2, COA2))))
    assert ipv4_bid_carried(history(*reg(1, bid(1, COA1), bid(2, V4COA))))


def test_ipv4_rules_still_find_what_they_look_at() -> None:
    # a bulk BU registering a new IPv4 CoA (MCOA701) and not over UDP (MCOA707): the early
    # return for captures without IPv4 BID options must not hide these
    ctx = history(*reg(1, bid(1, COA1), bid(2, V4COA)))
    assert [h.bid for h in dsmip.ipv4_first_registration_in_bulk(ctx)] == [2]
    assert [h.bid for h in dsmip.ipv4_first_registration_not_udp(ctx)] == [2]


def test_mcoa604_and_mcoa605_from_one_replay_in_either_order() -> None:
    packets = [*reg(1, bid(1, COA1), bid(2, COA2), bid(3, COA3)),
               *reg(7, bid(1, COA1), hoa=HOA2)]  # HOA2 binds COA1 too, while HOA holds it
    config = CheckerConfig(max_coas_per_hoa=2)
    first = history(*packets, config=config)
    shared_coa = [(h.frame, h.hoa) for h in data_plane.coa_shared_by_home_addresses(first)]
    crowded = [(h.frame, h.hoa) for h in data_plane.many_coas_per_home_address(first)]
    assert shared_coa == [(4, HOA2)] and crowded == [(2, HOA)]
    other = history(*packets, config=config)  # the other rule first: the same hits
    assert [(h.frame, h.hoa) for h in data_plane.many_coas_per_home_address(other)] == crowded
    assert [(h.frame, h.hoa) for h in data_plane.coa_shared_by_home_addresses(other)] == shared_coa


def test_a_non_routable_coa_is_reported_at_every_acceptance() -> None:
    # the rule judges each CoA once: a second BU with the same link-local CoA is still a finding
    ctx = history(bu(1, bid(1, "fe80::1")), ba(1, bid(1)), bu(2, bid(1, "fe80::1")), ba(2, bid(1)))
    assert [h.frame for h in bid_state.non_routable_coa_accepted(ctx)] == [2, 4]


def test_the_h_flag_look_is_per_packet_when_packets_alternate() -> None:
    from mcoaviz.checker.context import PacketContext
    from mcoaviz.checker.rules import return_home

    home = PacketContext(bu(1, bid(1, HOA, flags=0x80), bid(2, COA2)), CheckerConfig())
    away = PacketContext(bu(2, bid(1, COA1), bid(2, COA2)), CheckerConfig())
    seen = [tuple(b.bid for b in return_home._home_bids(ctx)) for ctx in (home, away, home, home, away)]
    assert seen == [(1,), (), (1,), (1,), ()]
