"""Cases a rule must NOT flag although they look close to its violation (hand-written)."""

from __future__ import annotations

from tests.checker.builders import CN, COA1, COA2, DRAFT, HOA, ba, bid, bu, check, data, hits, to_draft


def test_single_bid_draft_ba_may_carry_its_status_in_the_option() -> None:
    # draft §6.3: only a status "specific to one of bindings in the bulk" must use NOTCOMPLETE
    found = check(to_draft(bu(1, bid(1, COA1))), to_draft(ba(1, bid(1, status=129))), dialect=DRAFT)
    assert hits(found, "MCOA304") == []


def test_single_bid_rfc_ba_with_the_same_status_in_both_fields_is_not_flagged() -> None:
    # RFC §6.2: the status "can be stored in" either field; stored in both, they agree
    found = check(bu(1, bid(1, COA1)), ba(1, bid(1, status=129), status=129))
    assert hits(found, "MCOA304") == []


def test_returnhome_in_the_bid_option_is_not_a_bid_error() -> None:
    home_bu = bu(1, bid(1, COA1), bid(2, HOA, flags=0x80), src=HOA)
    found = check(home_bu, ba(1, bid(1), bid(2, status=5), dst=HOA))
    assert hits(found, "MCOA304") == []


def test_hao_data_for_a_home_address_never_bound_in_the_capture_is_not_flagged() -> None:
    # the registration may predate the capture
    assert hits(check(data(src=COA2, dst=CN, hao=HOA)), "MCOA601") == []


def test_unmatched_135_ack_is_not_an_orphan_ba() -> None:
    # a BA with 135 carries the last accepted sequence number, not the BU's (6275 §6.1.8)
    found = check(bu(5, bid(1, COA1)), ba(40, bid(1), status=135))
    assert hits(found, "MCOA902") == []


def test_bu_just_before_the_capture_ends_is_not_reported_unanswered() -> None:
    assert hits(check(bu(1, bid(1, COA1)), end=1010.0), "MCOA903") == []


def test_rfc_overwrite_with_p_flag_is_b_not_o() -> None:
    # RFC 5648 O is 0x0040 only when P is clear; with P it is PMIPv6's B (protocol-facts §1.2)
    found = check(bu(1, bid(1, COA1), flags="AHP", o_header=True), ba(1, bid(1)))
    assert hits(found, "MCOA314") == [1]


def test_draft_bulk_to_a_correspondent_is_mcoa201_not_missing_c() -> None:
    from tests.checker.builders import DRAFT, dbid

    found = check(bu(1, dbid(1), dbid(2), flags="A", dst=CN), dialect=DRAFT)
    assert (hits(found, "MCOA201"), hits(found, "MCOA204")) == ([1], [])


def test_traffic_after_full_deregistration_is_flagged_but_not_packets_in_flight() -> None:
    from tests.checker.test_rules import to_mn

    packets = [bu(1, bid(1, COA1)), ba(1, bid(1)), bu(2, lifetime=0), ba(2, lifetime=0)]
    assert hits(check(*packets, to_mn(COA1, at=1004.5)), "MCOA607") == []  # 0.5 s after the BA
    assert hits(check(*packets, to_mn(COA1, at=1010.0)), "MCOA607") == [5]


def test_hao_data_at_a_cn_without_any_binding_is_flagged_once_older_bindings_would_have_expired() -> None:
    # 6275 §12: a CN binding lasts at most 420 s; 500 s into the capture it would need a refresh
    first = data(src=COA2, dst=CN, hao=HOA, at=1000.0)
    late = data(src=COA2, dst=CN, hao=HOA, at=1500.0)
    assert hits(check(first), "MCOA608") == []
    found = [f for f in check(bu(1, bid(1, COA1), at=1000.0), late) if f.rule == "MCOA608"]
    assert [(f.frame, f.message) for f in found] == [
        (2, "Data with a Home Address option for 2001:db8:a::100 came from 2001:db8:2::100 to "
            "2001:db8:c::1, which holds no binding for that home address.")]


def test_hao_data_names_the_home_agent_binding_it_does_not_rely_on() -> None:
    found = [f for f in check(bu(1, bid(1, COA1)), ba(1, bid(1)), data(src=COA1, dst=CN, hao=HOA))
             if f.rule == "MCOA608"]
    assert [f.frame for f in found] == [3]
    assert found[0].message.endswith("although 2001:db8:a::1 holds a binding for it.")
    assert hits(check(bu(1, bid(1, COA1)), ba(1, bid(1)), data(src=COA1, dst=CN, hao=HOA)), "MCOA601") == []


def test_tunnel_after_deregistering_a_regular_binding_is_not_a_missing_bid() -> None:
    # MCOA321 is about a de-registration that should have named BIDs: none were held here
    tunnel = data(src=HOA, dst=CN, outer_src=COA2, outer_dst="2001:db8:a::1", tunnel="ip6ip6")
    found = check(bu(1), ba(1), bu(2, lifetime=0), ba(2, lifetime=0), tunnel)
    assert hits(found, "MCOA321") == []
