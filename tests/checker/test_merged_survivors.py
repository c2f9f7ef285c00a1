"""Facts of findings from the rules merged with issues 11 and 15 that the suite did not yet pin
(issue 16: survivors of the mutation run on the merged code). Frames follow builders.py: the
n-th packet is frame n at time 1000 + n unless it sets ``at=``.
"""

from __future__ import annotations

import dataclasses

from mcoaviz.checker import Checker, CheckerConfig, Finding
from mcoaviz.checker.rules.bid_state import routable
from mcoaviz.engine.engine import BindingEngine
from tests.checker.builders import (
    CN,
    COA1,
    COA2,
    COA3,
    DRAFT,
    HA,
    HA_MAC,
    HOA,
    ROUTER_MAC,
    ba,
    be,
    bid,
    brr,
    bu,
    check,
    cot,
    coti,
    data,
    dbid,
    hits,
    ike,
    nd,
    number,
    ra,
    rows,
)
from tests.checker.test_rules import (
    HOME_PREFIX,
    lla_home_bu,
    proxy_nd,
    returnhome,
    rfc_home_bu,
    to_mn,
    tunnel_from,
)


def of(found: list[Finding], code: str) -> list[Finding]:
    return [f for f in found if f.rule == code]


def reg(seq: int, *bids) -> list:  # noqa: ANN002 - test shorthand
    return [bu(seq, *bids), ba(seq, *[bid(b.bid) for b in bids])]


# ---------------------------------------------------------------- IPv4 "unicast routable" (RFC 6275 §5.2)
def test_routable_ipv4_addresses() -> None:
    assert routable("192.0.2.7") and routable("10.1.2.3") and routable("223.255.255.254")
    assert not routable("169.254.3.4")  # IPv4 link-local (RFC 3927)
    assert not routable("127.0.0.1") and not routable("0.0.0.0") and not routable("224.0.0.1")
    assert not routable("255.255.255.255")


# ---------------------------------------------------------------- reported once per pair
def test_mcoa603_once_per_home_address_and_home_agent() -> None:
    # two data packets CoA -> HA with a HAO: one info, at the first (frame 3)
    found = check(*reg(1, bid(1, COA1)), data(src=COA1, dst=HA, hao=HOA), data(src=COA1, dst=HA, hao=HOA))
    assert hits(found, "MCOA603") == [3]


def test_mcoa605_once_per_node_and_home_address() -> None:
    # threshold 1: the BA of frame 2 binds BIDs 1-3 -> 2 and 3 both exceed it, reported once
    found = check(*reg(1, bid(1, COA1), bid(2, COA2), bid(3, COA3)), config=CheckerConfig(max_coas_per_hoa=1))
    assert hits(found, "MCOA605") == [2]
    assert "more than 1" in of(found, "MCOA605")[0].message


def test_mcoa605_ended_binding_is_not_counted() -> None:
    # threshold 2: BIDs 1, 2 (2); BID 1 de-registered (1); BID 3 makes 2 again: never more than 2
    found = check(*reg(1, bid(1, COA1), bid(2, COA2)), bu(2, bid(1), lifetime=0), ba(2, bid(1), lifetime=0),
                  *reg(3, bid(3, COA3)), config=CheckerConfig(max_coas_per_hoa=2))
    assert hits(found, "MCOA605") == []


# ---------------------------------------------------------------- MCOA411: the episode the NSs merge into
def test_mcoa411_names_the_home_address_and_status() -> None:
    [f] = of(check(*proxy_nd()), "MCOA411")
    assert (f.frame, f.hoa) == (3, HOA)
    assert f.episode  # NSs for one HoA after RETURNHOME merge into one episode


# ---------------------------------------------------------------- messages name the facts
def test_mcoa306_c_flag_without_care_of_address_names_bid_and_status() -> None:
    # draft-05 §6.3: a BID with the C flag but no CoA must be rejected MALFORMED; HA accepted it
    [f] = of(check(bu(1, dbid(3, None, "C")), ba(1, dbid(3)), dialect=DRAFT), "MCOA306")
    assert (f.frame, f.bid) == (2, 3)
    assert "BID 3" in f.message and "C flag" in f.message and "MALFORMED" in f.message


def test_mcoa301_message_names_mcoa_support() -> None:
    [f] = of(check(bu(1, bid(1, COA1)), ba(1)), "MCOA301")
    assert f.frame == 2 and "MCoA" in f.message


# ---------------------------------------------------------------- MCOA321: only an accepted wipe counts
def test_mcoa321_rejected_deregistration_wipes_nothing() -> None:
    # BA status 128 (reason unspecified, a rejection, RFC 6275 §6.1.8): the bindings stay
    found = check(*reg(1, bid(1, COA1), bid(2, COA2)), bu(2, lifetime=0), ba(2, status=128, lifetime=0),
                  tunnel_from(COA2))
    assert hits(found, "MCOA321") == []
    accepted = check(*reg(1, bid(1, COA1), bid(2, COA2)), bu(2, lifetime=0), ba(2, status=0, lifetime=0),
                     tunnel_from(COA2))
    assert hits(accepted, "MCOA321") == [5]


# ---------------------------------------------------------------- more rule branches
def test_mcoa101_zero_bid_in_a_coti() -> None:
    # draft §2 / RFC §4.3: BID 0 is reserved, in a CoTI as in a BU
    assert hits(check(coti(bid(0))), "MCOA101") == [1]


def test_mcoa501_only_the_coti_from_the_registered_coa() -> None:
    # draft §5.2: BID 1 registered for CoA 1; a CoTI from CoA 2 (not registered) is not MCOA501's
    registered = [bu(1, dbid(1, COA1, "C")), ba(1, dbid(1))]
    assert hits(check(*registered, coti(src=COA2), dialect=DRAFT), "MCOA501") == []
    [f] = of(check(*registered, coti(src=COA1), dialect=DRAFT), "MCOA501")
    assert (f.frame, f.hoa, f.bid) == (3, HOA, 1)


def test_mcoa119_reserved_bits_alone_do_not_name_the_h_flag() -> None:
    [f] = of(check(cot(bid(1, flags=0x01))), "MCOA119")
    assert f.frame == 1 and "reserved 0x01" in f.message and "H," not in f.message and "(H" not in f.message


def test_episode_of_two_hits_keeps_the_last_time() -> None:
    # MCOA607: two tunnelled packets to the unregistered CoA 3 (frames 3 at 1010 s, 6 at 1020 s)
    found = check(*reg(1, bid(1, COA1)), to_mn(COA3, at=1010.0), *reg(2, bid(2, COA2)),
                  to_mn(COA3, at=1020.0))
    [f] = of(found, "MCOA607")
    assert (f.count, f.last_frame, f.last_time) == (2, 6, 1020.0)


# ---------------------------------------------------------------- MCOA1001 (draft/RFC §9.1)
def test_mcoa1001_two_sas_from_two_coas_are_fine() -> None:
    # each SA (SPI pair) stays on its own CoA; only the same SA moving is a finding
    two_sas = check(ike(35, src=COA1, ispi=0x11, rspi=0x22), ike(35, src=COA2, ispi=0x33, rspi=0x44))
    assert hits(two_sas, "MCOA1001") == []
    moved = check(ike(35, src=COA1, ispi=0x11, rspi=0x22), ike(37, src=COA2, ispi=0x11, rspi=0x22))
    assert hits(moved, "MCOA1001") == [2]


def test_mcoa1001_ignores_a_non_ikev2_header() -> None:
    # a UDP 500 header with major version 1 is not IKEv2 (RFC 7296 §3.1): it moves no SA
    v1 = ike(37, src=COA2, ispi=0x11, rspi=0x22)
    v1 = dataclasses.replace(v1, ike=dataclasses.replace(v1.ike, major_version=1))
    assert hits(check(ike(35, src=COA1, ispi=0x11, rspi=0x22), v1), "MCOA1001") == []


def test_mcoa506_a_brr_without_bid_does_not_hide_a_later_one() -> None:
    # BIDs 1, 2 bound; BRR without BID (frame 3), BRR for BID 2 (frame 4); BU refreshes only BID 1
    found = check(*reg(1, bid(1, COA1), bid(2, COA2)), brr(), brr(bid(2)), bu(2, bid(1, COA1)))
    [f] = of(found, "MCOA506")
    assert (f.frame, f.bid) == (5, 2) and "frame 4" in f.message


def test_mcoa621_earlier_unrelated_binding_errors_do_not_stop_the_rule() -> None:
    # BE status 2 (frame 1) and a BE with no BU before it (frame 2) answer no BU; the BU from CoA 2
    # to the CN (frame 3) with its HAO is answered by BE status 1 (frame 4): RFC §6.5 / Q93
    found = check(be(status=2), be(), bu(1, bid(1, COA2), src=COA2, flags="A", dst=CN), be())
    [f] = of(found, "MCOA621")
    assert (f.frame, f.hoa) == (4, HOA) and "frame 3" in f.message


# ---------------------------------------------------------------- home link: an earlier exchange that
# does not qualify must not end the scan (each rule looks at every registration)
def test_mcoa409_first_accepted_registration_after_a_rejected_one() -> None:
    # BID 1 rejected (status 128 in its option, frame 3); accepted at frame 5, no DAD on the home link
    found = check(ra(HOME_PREFIX, mac_src=HA_MAC), bu(1, bid(1, COA1)), ba(1, bid(1, status=128)),
                  bu(2, bid(1, COA1)), ba(2, bid(1)))
    assert hits(found, "MCOA409") == [5]


def test_mcoa418_after_an_exchange_whose_ba_shows_no_mac() -> None:
    # the first BA (frame 2) was not seen on the home link; the second (frame 5) was, and the HA
    # solicited the MN (frame 4) although the BU carried its MH-LLA
    found = check(lla_home_bu(1), ba(1, bid(1), dst=HOA), lla_home_bu(2),
                  nd(135, HOA, src="fe80::a:1", mac_src=HA_MAC), ba(2, bid(1), dst=HOA, mac_src=HA_MAC))
    assert hits(found, "MCOA418") == [4]


def test_mcoa419_after_a_foreign_registration() -> None:
    # router R's RA (frame 1); BID 1 registered from CoA 1 (BA seen on the home link, frame 3);
    # RETURNHOME accepted (frames 4, 5) while R is another router: the MN's NA (frame 6)
    found = check(ra(HOME_PREFIX, mac_src=ROUTER_MAC), bu(1, bid(1, COA1)), ba(1, bid(1), mac_src=HA_MAC),
                  rfc_home_bu(2), ba(2, bid(1), dst=HOA, mac_src=HA_MAC), nd(136, HOA))
    assert hits(found, "MCOA419") == [6]


def test_mcoa412_names_the_solicited_router() -> None:
    # RETURNHOME WO/NDP (status 5, frames 1-2); the MN solicits its router fe80::f:1 (frame 3)
    [f] = of(check(*returnhome(), nd(135, "fe80::f:1")), "MCOA412")
    assert (f.frame, f.hoa, f.bid) == (3, HOA, 1) and "fe80::f:1" in f.message


def test_mcoa419_needs_the_router_mac() -> None:
    # an RA whose link-layer source is unknown cannot show another router than the HA
    found = check(ra(HOME_PREFIX, mac_src=None), *returnhome(status=0), nd(136, HOA))  # type: ignore[arg-type]
    assert hits(found, "MCOA419") == []


def test_mcoa321_registering_again_ends_the_wipe() -> None:
    # after the wipe (frames 3-4) the MN registers BID 2 again (5-6): its data (7) is fine
    found = check(*reg(1, bid(1, COA1), bid(2, COA2)), bu(2, lifetime=0), ba(2, lifetime=0),
                  *reg(3, bid(2, COA2)), tunnel_from(COA2))
    assert hits(found, "MCOA321") == []


def test_mcoa414_a_home_registration_abroad_is_not_a_correspondent_binding() -> None:
    # draft §5.6.1: de-registered from the home address (frame 1); the next BU is an H-flag BU to
    # the home agent from CoA 1 (frame 2), not a BU to a correspondent node
    found = check(bu(1, src=HOA, lifetime=0), bu(2, dbid(1, COA1, "C")), dialect=DRAFT)
    assert hits(found, "MCOA414") == []


# ---------------------------------------------------------------- statuses the MN must read
def test_mcoa309_prohibited_in_the_bid_option_counts() -> None:
    # BA status 0 but BID 1's option says MCOA PROHIBITED (166): the effective status (I-9) is
    # 166, so the next BID BU to that HA (frame 3) ignores it
    found = check(bu(1, bid(1, COA1)), ba(1, bid(1, status=166)), bu(2, bid(2, COA2)))
    [f] = of(found, "MCOA309")
    assert f.frame == 3 and "frame 2" in f.message


def test_mcoa312_only_after_status_135() -> None:
    # BA status 0 for seq 5, then the same seq again: no 135 was sent, so no retry rule applies
    found = check(bu(5, bid(1, COA1)), ba(5, bid(1)), bu(5, bid(1, COA1), lifetime=300))
    assert hits(found, "MCOA312") == []
    # with 135 (seq 40 in the BA): BU seq 6 is not newer than 40 -> warning at frame 3
    found = check(bu(5, bid(1, COA1)), ba(40, bid(1), status=135), bu(6, bid(1, COA1)))
    assert hits(found, "MCOA312") == [3]


# ---------------------------------------------------------------- fast-path rows with a HAO
def _with_rows(packets: list, data_rows: list, end: float) -> list[Finding]:  # noqa: ANN001
    engine, checker = BindingEngine(), Checker(CheckerConfig())
    for p in number(packets):
        checker.observe(p, engine.feed(p))
    checker.observe_traffic(data_rows, engine.feed_traffic(data_rows))
    checker.observe_traffic([], engine.finish(end))
    return checker.finish(engine)


def test_mcoa603_from_fast_path_rows() -> None:
    # draft §5.9: data to the HA with a HAO, counted by the fast path (no frame; the row's time)
    found = _with_rows([bu(1, bid(1, COA1)), ba(1, bid(1))],
                       [rows(1010.0, via="route-optimised", src=COA1, dst=HA, hao=HOA)], end=1020.0)
    assert [(f.frame, f.time, f.hoa) for f in of(found, "MCOA603")] == [(None, 1010.0, HOA)]
