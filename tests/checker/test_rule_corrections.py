"""Issue 15: rules that blamed the wrong node or looked too narrowly, each with the case that
used to be missed or misattributed (expected frames written by hand)."""

from __future__ import annotations

import dataclasses

from dissector.records import NonceIndices, Packet
from tests.checker.builders import (
    CN,
    COA1,
    COA2,
    DRAFT,
    HA_MAC,
    HOA,
    MN_MAC,
    ROUTER_MAC,
    ba,
    bid,
    bu,
    check,
    cot,
    coti,
    dbid,
    hits,
    ra,
)

HOME = 0x80


def at(packet: Packet, time: float) -> Packet:
    return dataclasses.replace(packet, time=time)


def test_167_for_a_bid_the_home_agent_still_holds_is_the_home_agents_error() -> None:
    found = check(bu(1, bid(7, COA1)), ba(1, bid(7)), bu(2, bid(7)), ba(2, bid(7, status=167), status=167))
    assert hits(found, "MCOA115") == []
    assert hits(found, "MCOA316") == [4]


def test_167_for_a_bid_never_registered_is_still_the_mobile_nodes() -> None:
    found = check(bu(1, bid(7)), ba(1, bid(7), status=167))
    assert (hits(found, "MCOA115"), hits(found, "MCOA316")) == ([1], [])


def test_133_and_165_for_a_held_bid_are_flagged_but_165_over_a_regular_binding_is_not() -> None:
    held = [bu(1, bid(1, COA1)), ba(1, bid(1))]
    assert hits(check(*held, bu(2, bid(1)), ba(2, bid(1), status=133)), "MCOA316") == [4]
    assert hits(check(*held, bu(2, bid(1)), ba(2, bid(1), status=165)), "MCOA316") == [4]
    regular = [bu(1), ba(1), bu(2, bid(1, COA1)), ba(2, bid(1), status=165)]
    assert hits(check(*regular), "MCOA316") == []


def test_single_bid_rfc_ba_with_a_bid_status_and_ba_status_0_is_flagged() -> None:
    # RFC §6.2: outside NOTCOMPLETE the BID option's Status MUST be 0 (single BID too)
    found = check(bu(1, bid(1, COA1)), ba(1, bid(1, status=164)))
    assert hits(found, "MCOA304") == [2]


def _home_return(ra_at: float) -> list[Packet]:
    home_bu = bu(1, bid(1, HOA, flags=HOME), src=HOA, mac_src=MN_MAC)
    return [home_bu, ba(1, bid(1), dst=HOA, mac_src=HA_MAC),
            at(ra("2001:db8:a::/64", mac_src=ROUTER_MAC), ra_at)]


def test_another_routers_ra_after_the_ba_counts_within_600_s() -> None:
    assert hits(check(*_home_return(1300.0)), "MCOA408") == [2]  # BA at t=1002, RA 298 s later
    assert hits(check(*_home_return(1700.0)), "MCOA408") == []  # 698 s later: may be a new router


def test_bid_bu_after_a_legacy_cot_counts_from_every_care_of_address_of_the_mn() -> None:
    # draft §5.2: the CN does not support MCoA; the MUST is per CN, whichever CoA the BU uses
    found = check(bu(1, dbid(1, COA1, "C")), ba(1, dbid(1)), coti(dbid(1)), cot(),
                  bu(2, dbid(2), src=COA2, flags="A", dst=CN), dialect=DRAFT)
    assert hits(found, "MCOA505") == [5]


def test_a_care_of_address_moved_to_another_bid_inside_one_bulk_bu_is_not_two_bids() -> None:
    found = check(bu(1, bid(1, COA1)), ba(1, bid(1)),
                  bu(2, bid(2, COA1), bid(1, COA2)), ba(2, bid(2), bid(1)))
    assert hits(found, "MCOA320") == []


def _test_then_bu(cot_at: float, bu_at: float) -> list[Packet]:
    nonces = NonceIndices(offset=12, home_nonce_index=1, careof_nonce_index=1)
    return [bu(1, bid(1, COA1)), ba(1, bid(1)), at(coti(bid(1)), cot_at - 0.5), at(cot(bid(1)), cot_at),
            at(bu(2, bid(1), nonces, flags="A", dst=CN), bu_at)]


def test_a_care_of_nonce_index_older_than_240_s_is_flagged() -> None:
    assert hits(check(*_test_then_bu(1010.0, 1300.0)), "MCOA509") == [5]
    assert hits(check(*_test_then_bu(1100.0, 1300.0)), "MCOA509") == []


def test_nonce_indices_are_not_judged_when_the_capture_is_shorter_than_240_s() -> None:
    nonces = NonceIndices(offset=12, home_nonce_index=1, careof_nonce_index=9)
    found = check(bu(1, bid(1, COA1)), ba(1, bid(1)), coti(bid(1)), cot(bid(1)),
                  bu(2, bid(1), nonces, flags="A", dst=CN))
    assert hits(found, "MCOA509") == []


def test_home_nonce_index_checked_once_hots_are_visible() -> None:
    from dissector.records import HomeTest, MobilityMessage, PacketPath

    hot_body = HomeTest(nonce_index=4, cookie=b"h" * 8, keygen_token=b"k" * 8)
    hot = Packet(frame=0, time=1290.0, interface=0, wire_length=120,
                 path=PacketPath(src=CN, dst=HOA, protocol=135),
                 mobility=MobilityMessage(offset=54, mh_type=3, type_name="HoT", payload_proto=59,
                                          header_len=24, checksum=0, checksum_ok=True, body=hot_body))
    packets = _test_then_bu(1295.0, 1300.0)
    assert hits(check(*packets[:2], hot, *packets[2:]), "MCOA509") == [6]  # home index 1, HoT gave 4


def test_cn_traffic_to_a_coa_never_registered_after_a_first_bid_bu_is_noted() -> None:
    from tests.checker.builders import data

    to_coa2 = data(src=CN, dst=COA2)
    to_coa2 = dataclasses.replace(to_coa2, path=dataclasses.replace(to_coa2.path, routing_type2=HOA))
    first_bid = [bu(1, dbid(1), flags="A", dst=CN), ba(1, dbid(1), src=CN)]
    assert hits(check(*first_bid, to_coa2, dialect=DRAFT), "MCOA511") == [3]
    cleared = [bu(1, flags="A", dst=CN, lifetime=0), ba(1, src=CN, lifetime=0),
               bu(2, dbid(1), flags="A", dst=CN), ba(2, dbid(1), src=CN)]
    assert hits(check(*cleared, to_coa2, dialect=DRAFT), "MCOA511") == []


def test_a_bid_installed_only_unconfirmed_by_a_draft_bid_conflict_is_not_known() -> None:
    # I-7: after draft BID CONFLICT the BID binding is modelled as installed but unconfirmed; a
    # second 165 fits the other reading ("nothing installed"), so it is not the HA's error
    packets = [bu(1), ba(1), bu(2, dbid(1, COA1, "C")), ba(2, dbid(1), status=165),
               bu(3, dbid(1, COA1, "C")), ba(3, dbid(1), status=165)]
    assert hits(check(*packets, dialect=DRAFT), "MCOA316") == []
    confirmed = [bu(1, dbid(1, COA1, "C")), ba(1, dbid(1)),
                 bu(2, dbid(1, COA1, "C")), ba(2, dbid(1), status=165)]
    assert hits(check(*confirmed, dialect=DRAFT), "MCOA316") == [4]
