"""Branches of the home-link, IPv4-HoA and IKEv2 rules (MCOA409-419, MCOA709, MCOA10xx) beyond
their CASES fixtures: fast-path rows, the expiry branch, windows and the home address of an IKE SA.

Frame n is the n-th packet at time 1000 + n unless it sets ``at=``; expectations are by hand.
"""

from __future__ import annotations

from mcoaviz.checker import Checker, CheckerConfig
from mcoaviz.engine.engine import BindingEngine
from tests.checker.builders import (
    CN,
    COA1,
    COA2,
    DRAFT,
    HA,
    HA_MAC,
    HOA,
    IKE_AUTH,
    INFORMATIONAL,
    MN_MAC,
    ROUTER_MAC,
    ba,
    bid,
    bu,
    check,
    data,
    dbid,
    hits,
    ike,
    nd,
    number,
    rows,
)
from tests.checker.test_rules import HOME, HOME_PREFIX, proxy_nd, returnhome, rfc_home_bu


def _with_rows(packets: list, traffic: list) -> list:  # noqa: ANN001 - test helper
    """Packets and fast-path rows through the engine and checker in time order, as the pipeline
    feeds them (it flushes the rows before each slow-path packet)."""
    engine, checker = BindingEngine(), Checker(CheckerConfig())
    pending = sorted(traffic, key=lambda r: r.first)
    for p in number(packets):
        due = [r for r in pending if r.first < p.time]
        pending = [r for r in pending if r.first >= p.time]
        if due:
            checker.observe_traffic(due, engine.feed_traffic(due))
        checker.observe(p, engine.feed(p))
    if pending:
        checker.observe_traffic(pending, engine.feed_traffic(pending))
    checker.observe_traffic([], engine.finish(1100.0))
    return checker.finish(engine)


def test_mcoa413_reads_fast_path_rows_between_the_bu_and_the_ba() -> None:
    # H BU at 1001, BA at 1002; a row of plain data from the HoA at 1001.5 overlaps, one at 1003 does not
    before = rows(1001.5, via="plain", src=HOA, dst=CN)
    after = rows(1003.0, via="plain", src=HOA, dst=CN)
    packets = [rfc_home_bu(), ba(1, bid(1), dst=HOA)]
    found = [(f.frame, f.time) for f in _with_rows(packets, [before]) if f.rule == "MCOA413"]
    assert found == [(None, 1001.5)]
    assert [f for f in _with_rows(packets, [after]) if f.rule == "MCOA413"] == []


def test_mcoa413_ignores_tunnelled_data_from_the_home_address() -> None:
    tunnelled = data(src=HOA, dst=CN, outer_src=COA1, outer_dst=HA, tunnel="ip6ip6")
    assert hits(check(rfc_home_bu(), tunnelled, ba(1, bid(1), dst=HOA)), "MCOA413") == []


def test_mcoa709_reads_rows_from_the_assigned_ipv4_home_address() -> None:
    from tests.checker.test_rules import V4ACK, V4HOA, V4HOA_ASSIGNED

    packets = [bu(1, V4HOA, bid(1, COA1)), ba(1, V4ACK, bid(1)), bu(2, bid(1, COA1)), ba(2, bid(1))]
    later = rows(1010.0, via="udp", src=V4HOA_ASSIGNED, dst="198.51.100.50")
    assert [f.frame for f in _with_rows(packets, [later]) if f.rule == "MCOA709"] == [3]
    # no IPv4 traffic after the BU: the MN may have given the IPv4 HoA up
    assert [f for f in _with_rows(packets, []) if f.rule == "MCOA709"] == []


def test_mcoa411_waits_for_retrans_timer_before_calling_an_ns_unanswered() -> None:
    # the capture ends 0.5 s after the router's NS: the answer was not yet due
    late = [*returnhome(), nd(135, HOA, src="fe80::f:1", mac_src=ROUTER_MAC, at=1003.0),
            nd(135, "fe80::9", src="fe80::f:1", mac_src=ROUTER_MAC, at=1003.5)]
    assert hits(check(*late, end=1003.5), "MCOA411") == []
    # an answer by the mobile node itself is not proxy ND (that is MCOA404's case)
    by_mn = [*returnhome(), nd(135, HOA, src="fe80::f:1", mac_src=ROUTER_MAC), nd(136, HOA, at=1003.5),
             nd(135, "fe80::9", src="fe80::f:1", mac_src=ROUTER_MAC)]
    assert hits(check(*by_mn), "MCOA411") == [3]
    assert hits(check(*proxy_nd(answered=True)), "MCOA411") == []


def test_mcoa411_stops_when_the_home_agent_hands_nd_back() -> None:
    # RETURNHOME (frame 2), then an H BU answered 0 (frames 3-4): the MN owns ND from then on
    packets = [*returnhome(), rfc_home_bu(2), ba(2, bid(1), dst=HOA, mac_src=HA_MAC),
               nd(135, HOA, src="fe80::f:1", mac_src=ROUTER_MAC), nd(135, "fe80::9", src="fe80::f:1",
                                                                   mac_src=ROUTER_MAC, at=1008.0)]
    assert hits(check(*packets), "MCOA411") == []


def test_mcoa415_flags_the_home_interface_binding_left_to_expire() -> None:
    # BID 1 registered from COA1 on capture interface 0 (the MN's interface); later the MN sends a
    # BU from its home address on the same interface, and BID 1 (granted 20 s at 1002) expires
    packets = [bu(1, dbid(1, COA1, "C"), dbid(2, COA2, "C"), lifetime=20),
               ba(1, dbid(1), dbid(2), lifetime=20),
               bu(2, dbid(2, COA2, "C"), lifetime=200, src=HOA), ba(2, dbid(2), lifetime=200, dst=HOA)]
    found = check(*packets, dialect=DRAFT, end=1030.0)
    assert [(f.frame, f.time, f.bid) for f in found if f.rule == "MCOA415"] == [(None, 1022.0, 1)]
    # without a BU from the home address nothing ties BID 1 to the home link
    assert hits(check(*packets[:2], dialect=DRAFT, end=1030.0), "MCOA415") == []


def test_mcoa419_needs_another_router_advertising_the_home_prefix() -> None:
    from tests.checker.builders import ra

    assert hits(check(*returnhome(status=0), nd(136, HOA)), "MCOA419") == []
    elsewhere = [ra("2001:db8:99::/64", mac_src=ROUTER_MAC), *returnhome(status=0), nd(136, HOA)]
    assert hits(check(*elsewhere), "MCOA419") == []
    other_router = [ra(HOME_PREFIX, mac_src=ROUTER_MAC), *returnhome(status=0), nd(136, HOA)]
    assert hits(check(*other_router), "MCOA419") == [4]


def test_mcoa1001_names_the_home_address_when_a_binding_ties_the_coa() -> None:
    packets = [bu(1, bid(1, COA1), bid(2, COA2)), ba(1, bid(1), bid(2)), ike(IKE_AUTH),
               ike(INFORMATIONAL, src=COA2)]
    found = [f for f in check(*packets) if f.rule == "MCOA1001"]
    assert [(f.frame, f.hoa) for f in found] == [(4, HOA)]
    # a response from the HA to the new CoA moves nothing by itself: the MN side is the destination
    reply = ike(INFORMATIONAL, src=HA, dst=COA1, initiator=False, response=True)
    assert hits(check(ike(IKE_AUTH), reply), "MCOA1001") == []


def test_mcoa1002_is_quiet_when_the_deregistering_bu_sets_k() -> None:
    from tests.checker.builders import esp
    from tests.checker.test_rules import reg

    packets = [ike(34, rspi=0), *reg(1, bid(1, COA1), bid(2, COA2)), *reg(2, bid(1), lifetime=0, flags="AHK"),
               esp(src=COA2)]
    assert hits(check(*packets), "MCOA1002") == []
    no_esp = [ike(34, rspi=0), *reg(1, bid(1, COA1), bid(2, COA2)), *reg(2, bid(1), lifetime=0)]
    assert hits(check(*no_esp), "MCOA1002") == []


def test_mcoa416_accepts_option_code_2_only() -> None:
    from dissector.records import LinkLayerAddress

    wrong = LinkLayerAddress(offset=12, option_code=3, address=MN_MAC)
    found = check(bu(1, bid(1, HOA, flags=HOME), wrong, src=HOA, mac_src=MN_MAC))
    assert [(f.frame, "code 3" in f.message) for f in found if f.rule == "MCOA416"] == [(1, True)]


def test_mcoa413_counts_an_echo_request_from_the_home_address_as_data() -> None:
    from dissector.records import Icmp6Message, Packet, PacketPath

    def icmp(kind: int) -> Packet:
        return Packet(0, -1.0, 0, 100, PacketPath(src=HOA, dst=CN, protocol=58),
                      icmp6=Icmp6Message(type=kind, code=0))

    found = check(rfc_home_bu(), icmp(128), ba(1, bid(1), dst=HOA))
    assert hits(found, "MCOA413") == [2]
    # a Router Solicitation is ND, not use of the address (and RS come from :: anyway)
    assert hits(check(rfc_home_bu(), icmp(133), ba(1, bid(1), dst=HOA)), "MCOA413") == []


def test_mcoa409_skips_an_address_the_ha_already_defended_before_the_capture_s_first_bu() -> None:
    from tests.checker.builders import ra
    from tests.checker.test_rules import reg

    proxy_na = nd(136, HOA, src="fe80::a:1", mac_src=HA_MAC)
    assert hits(check(ra(HOME_PREFIX, mac_src=HA_MAC), proxy_na, *reg(1, bid(1, COA1))), "MCOA409") == []
    # without a capture of the home link (no RA, no ND for the home /64) nothing is checked
    assert hits(check(*reg(1, bid(1, COA1))), "MCOA409") == []
    assert hits(check(ra(HOME_PREFIX, mac_src=HA_MAC), *reg(1, bid(1, COA1))), "MCOA409") == [3]


def test_mcoa410_knows_the_ha_by_its_proxy_na() -> None:
    # the BA is seen on the HA's uplink (another MAC); its proxy NA on the home link names its MAC
    from tests.checker.test_rules import dad

    proxy_na = nd(136, HOA, src="fe80::a:1", mac_src=HA_MAC)
    uplink_ba = ba(1, bid(1), mac_src=b"\x02\x00\x00\x00\x01\x01")
    assert hits(check(bu(1, bid(1, COA1)), uplink_ba, proxy_na, dad()), "MCOA410") == [4]
    assert hits(check(bu(1, bid(1, COA1)), uplink_ba, dad()), "MCOA410") == []  # HA's MAC unknown


def _returned_after_each(packets: list) -> list[frozenset[str]]:  # noqa: ANN001 - test helper
    engine, checker = BindingEngine(), Checker(CheckerConfig())
    seen = []
    for p in number(packets):
        checker.observe(p, engine.feed(p))
        seen.append(checker.returned_home)
    return seen


def test_returned_home_addresses_follow_the_returnhome_window() -> None:
    # RETURNHOME BA (frame 2) starts the watch; registering BID 1 from a foreign CoA again ends it
    foreign = [bu(2, bid(1, COA1)), ba(2, bid(1))]
    assert _returned_after_each([*returnhome(), *foreign]) == [frozenset(), {HOA}, {HOA}, frozenset()]
    assert _returned_after_each([*returnhome(status=0), *foreign]) == [frozenset()] * 4


def test_home_data_kept_only_for_watched_addresses_untunnelled() -> None:
    engine, checker = BindingEngine(), Checker(CheckerConfig())
    packets = [data(src=HOA, dst=CN, mac_src=MN_MAC), *returnhome(), data(src=HOA, dst=CN, mac_src=MN_MAC),
               data(src=CN, dst=HOA, mac_dst=MN_MAC), data(src=CN, dst=HOA, outer_src=HA, outer_dst=COA1,
                                                          tunnel="ip6ip6")]
    for p in number(packets):
        checker.observe(p, engine.feed(p))
    assert [p.frame for p in checker._home_data] == [4, 5]


def test_returned_home_is_released_once_the_kept_data_is_full(monkeypatch) -> None:  # noqa: ANN001
    import mcoaviz.checker as checker_module

    monkeypatch.setattr(checker_module, "MAX_WATCHED", 2)
    engine, checker = BindingEngine(), Checker(CheckerConfig())
    versions = []
    for p in number([*returnhome(), data(src=HOA, dst=CN), data(src=HOA, dst=CN), data(src=HOA, dst=CN)]):
        checker.observe(p, engine.feed(p))
        versions.append((checker.returned_version, checker.returned_home))
    assert versions == [(0, frozenset()), (1, {HOA}), (1, {HOA}), (2, frozenset()), (2, frozenset())]
    assert [p.frame for p in checker._home_data] == [3, 4]


def test_nd_after_returnhome_knows_the_mobile_node_by_its_home_bus_mac() -> None:
    # MCOA404 keeps the source MAC of each home address's H-flag BU (a per-key state) to tell the
    # MN's NS/NA from others' when they do not come from the home address itself
    other_mac = b"\x02\x00\x00\x00\x00\x99"
    found = check(rfc_home_bu(), ba(1, bid(1), status=5, dst=HOA),
                  nd(136, HOA, src="fe80::5"),  # the MN (its BU's MAC) from its link-local address
                  nd(136, HOA, src="fe80::9", mac_src=other_mac))  # another node: not the MN's
    assert hits(found, "MCOA404") == [3]


def test_proxy_nd_window_closes_when_the_home_binding_expires() -> None:
    # MCOA411's per-key state closes a RETURNHOME window at the home binding's end even when no
    # ND-owner change comes with it (an expiry): a router's NS after it is not the HA's to answer
    def packets(lifetime: int) -> list:  # noqa: ANN401 - test helper
        return [rfc_home_bu(lifetime=lifetime),
                ba(1, bid(1), status=5, dst=HOA, mac_src=HA_MAC, lifetime=lifetime),
                nd(135, HOA, src="fe80::f:1", mac_src=ROUTER_MAC, at=1010.0),
                # the capture goes on past RetransTimer
                nd(136, "2001:db8:a::99", src="2001:db8:a::99", mac_src=ROUTER_MAC, at=1012.0)]

    assert hits(check(*packets(400)), "MCOA411") == [3]  # still held: unanswered NS
    assert hits(check(*packets(4)), "MCOA411") == []  # expired at 1006, before the NS
