"""What a finding tells the user, and the rule branches only whole captures reached (issue 16,
point 3: mutants that survived the fast tests).

A finding's message is the user's only explanation, so its key facts are checked: the frame it
refers to, the flag, status or section it names. Severity follows the dialect of the message
concerned (docs/rules.md: "the RFC severity applies to RFC 5648 captures"), not the dialect the
capture is checked under. Frames and times follow tests/checker/builders.py: the n-th packet is
frame n at time 1000 + n unless it sets ``at=``.
"""

from __future__ import annotations

import dataclasses

from dissector.records import IPv4AddressAck, IPv4HomeAddress, NATDetection, Packet, TrafficCount
from mcoaviz.checker import Checker, CheckerConfig, Finding
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.registry import BY_CODE
from mcoaviz.checker.rules._common import seq_before
from mcoaviz.checker.runner import complete, finalise
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.engine.keys import BindingKey
from tests.checker.builders import (
    CN,
    COA1,
    COA2,
    COA3,
    DRAFT,
    HA,
    HOA,
    HOA2,
    MN_MAC,
    RFC,
    V4COA,
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
    nd,
    number,
    rows,
)

HOME = 0x80  # RFC 5648 BID H flag
NAT = NATDetection(offset=12, f_flag=True, refresh_time=110)
V4HOA = IPv4HomeAddress(offset=12, prefix_length=24, p_flag=False, address="0.0.0.0")
V4ACK = IPv4AddressAck(offset=12, status=0, prefix_length=24, address="203.0.113.9")


def of(found: list[Finding], code: str) -> list[Finding]:
    return [f for f in found if f.rule == code]


def reg(seq: int, *bids, **kw) -> list[Packet]:  # noqa: ANN001, ANN003 - test shorthand
    """A BU and its accepting BA (BID options copied without CoA)."""
    copies = [bid(b.bid, flags=b.flags_byte, dialect=b.dialect) for b in bids]
    return [bu(seq, *bids, **kw), ba(seq, *copies, src=kw.get("dst", HA), dst=kw.get("src", COA1),
                                     hoa=kw.get("hoa", HOA))]


def to_mn(coa: str, at: float | None = None) -> Packet:
    return data(src=CN, dst=HOA, outer_src=HA, outer_dst=coa, tunnel="ip6ip6", at=at)


# ---------------------------------------------------------------- messages: the facts they name
def test_mcoa314_names_the_o_flag() -> None:
    [f] = of(check(*reg(1, bid(1, COA1))), "MCOA314")
    assert "O flag" in f.message and f.frame == 1


def test_mcoa114_names_the_missing_c_flag_and_care_of_address() -> None:
    [f] = of(check(bu(1, dbid(1)), dialect=DRAFT), "MCOA114")
    assert "C flag" in f.message and "care-of address" in f.message and f.bid == 1


def test_mcoa208_says_a_correspondent_accepted_a_bulk_registration() -> None:
    found = check(bu(1, bid(1, COA1), bid(2, COA2), flags="A", dst=CN), ba(1, bid(1), bid(2), src=CN))
    [f] = of(found, "MCOA208")
    assert f.message.startswith("Correspondent node accepted a bulk registration") and f.frame == 2


def test_mcoa705_says_where_the_error_belongs() -> None:
    found = check(bu(1, bid(2, V4COA)), ba(1, V4ACK, bid(2, status=129), status=129))
    [f] = of(found, "MCOA705")
    assert "error belongs in the BID option" in f.message and f.frame == 2


def test_mcoa508_says_the_bid_option_is_missing() -> None:
    [f] = of(check(*reg(1, bid(1, COA1)), brr()), "MCOA508")
    assert f.message.endswith("carries no BID option.") and (f.frame, f.bid) == (3, 1)


def test_mcoa106_names_the_bits_and_in_rfc5648_the_bid_pri_reading() -> None:
    # RFC 5648 captures: the bits may be RFC 6089 BID-PRI (I-27), which is why it is a warning
    [rfc] = of(check(bu(1, bid(1, COA1, flags=0x01))), "MCOA106")
    [draft] = of(check(bu(1, bid(1, COA1, flags=0x81, dialect=DRAFT)), dialect=DRAFT), "MCOA106")  # C + 0x01
    assert "0x01" in rfc.message and "RFC 6089" in rfc.message and rfc.severity == "warning"
    assert "0x01" in draft.message and "RFC 6089" not in draft.message and draft.severity == "error"


def test_mcoa106_checks_a_coti_bid_option() -> None:
    assert hits(check(coti(bid(1, flags=0x01))), "MCOA106") == [1]


def test_mcoa105_second_branch_names_the_bid() -> None:
    # C with an IPv4 Length (8) but no D: the finding is about that BID option
    [f] = of(check(bu(1, dbid(1, V4COA, "C")), dialect=DRAFT), "MCOA105")
    assert (f.frame, f.bid) == (1, 1) and "D flag" in f.message


def test_mcoa702_names_the_frame_that_reported_the_nat() -> None:
    found = check(bu(1, bid(2, V4COA)), ba(1, bid(2), NAT), bu(2, bid(1, COA1), bid(2, V4COA)))
    [f] = of(found, "MCOA702")
    assert "(frame 2)" in f.message and (f.frame, f.bid) == (3, 2)


def test_mcoa702_follows_the_bid_even_at_another_ipv4_address() -> None:
    # the NAT was reported for BID 2; bulk-registering BID 2 again is still bulk after NAT
    found = check(bu(1, bid(2, V4COA)), ba(1, bid(2), NAT), bu(2, bid(1, COA1), bid(2, "192.0.2.99")))
    assert hits(found, "MCOA702") == [3]


# ---------------------------------------------------------------- severity: the message's dialect
def test_a_draft_exchange_in_a_capture_checked_as_rfc5648_gets_the_draft_severity() -> None:
    # MCOA705 is an error in draft-05 (MUST NOT), a warning in RFC 5648 (SHOULD NOT)
    found = check(bu(1, dbid(2, V4COA, "CD")), ba(1, V4ACK, dbid(2, status=129), status=129),
                  dialect=RFC)
    assert [(f.frame, f.severity) for f in of(found, "MCOA705")] == [(2, "error")]


# ---------------------------------------------------------------- rule branches
def test_a_bu_without_a_flag_is_not_an_acknowledgement_problem() -> None:
    # 6275 §6.1.7: without A no BA is expected; nothing of the 3xx family applies
    found = check(bu(1, bid(1, COA1), flags="H", o_header=True), bu(2, bid(1, COA1), bid(2, COA2), flags="H"))
    assert [f.rule for f in found if f.rule.startswith("MCOA3")] == []


def test_mcoa315_looks_past_a_rejected_bu() -> None:
    # regular binding; a BID BU refused (129) is fine; the next one accepted without O is the finding
    found = check(bu(1), ba(1), bu(2, bid(1, COA1)), ba(2, bid(1), status=129),
                  bu(3, bid(1, COA1)), ba(3, bid(1)))
    assert hits(found, "MCOA315") == [6]


def test_mcoa108_leaves_a_brr_to_the_reply_rule() -> None:
    # a BRR copying a CoA is MCOA109's case (copied into a reply), not a CoA outside a BU
    found = check(*reg(1, bid(1, COA1)), brr(bid(1, COA1)))
    assert (hits(found, "MCOA108"), hits(found, "MCOA109")) == ([], [3])


def test_mcoa705_also_after_an_exchange_that_requested_an_ipv4_home_address() -> None:
    # the first BA's IPv4AA was requested (I-23); the second BU asked none and the BA rejects
    found = check(bu(1, V4HOA, bid(1, COA1)), ba(1, bid(1), V4ACK),
                  bu(2, bid(2, V4COA)), ba(2, V4ACK, bid(2, status=129), status=129))
    assert hits(found, "MCOA705") == [4]


def test_mcoa904_a_rejecting_ba_from_128_up_grants_nothing() -> None:
    found = check(bu(1, bid(1, COA1), lifetime=400), ba(1, bid(1), status=128, lifetime=800))
    assert hits(found, "MCOA904") == []


def test_mcoa404_without_the_mns_mac_the_source_address_tells() -> None:
    # the home BU carries no link-layer address: ND from the HoA is the MN's
    home = bu(1, bid(1, HOA, flags=HOME), src=HOA)
    found = check(home, ba(1, bid(1), status=5, dst=HOA), nd(136, HOA))
    assert hits(found, "MCOA404") == [3]


def test_mcoa404_another_home_address_does_not_end_the_home_agents_nd() -> None:
    # HOA got RETURNHOME (frame 2); HOA2's own home registration (frames 3-4) changes nothing
    # for HOA, so the MN's ND for HOA at frame 5 is still the finding
    found = check(bu(1, bid(1, HOA, flags=HOME), src=HOA, mac_src=MN_MAC), ba(1, bid(1), status=5, dst=HOA),
                  bu(1, bid(1, HOA2, flags=HOME), src=HOA2, hoa=HOA2), ba(1, bid(1), dst=HOA2, hoa=HOA2),
                  nd(136, HOA))
    assert hits(found, "MCOA404") == [5]


def test_cot_rules_ignore_a_cot_that_answers_no_captured_coti() -> None:
    found = check(cot(dbid(1)), dialect=DRAFT)
    assert [f.rule for f in found if f.rule in ("MCOA503", "MCOA504")] == []


def test_mcoa508_is_about_the_bindings_of_the_brr_home_address() -> None:
    # HOA holds a BID binding; a BRR to HOA2 (which holds none) needs no BID option
    found = check(*reg(1, bid(1, COA1)), brr(hoa=HOA2, dst=COA2))
    assert hits(found, "MCOA508") == []


def test_mcoa601_after_the_binding_was_removed() -> None:
    # the CN held a binding for HOA (frames 1-2) and it was de-registered (3-4): data with a HAO
    # from that CoA afterwards comes from an unregistered CoA
    found = check(*reg(1, bid(1, COA1), flags="A", dst=CN),
                  bu(2, bid(1), lifetime=0, flags="A", dst=CN), ba(2, bid(1), lifetime=0, src=CN),
                  data(src=COA1, dst=CN, hao=HOA))
    assert hits(found, "MCOA601") == [5]


def test_mcoa606_a_binding_error_exactly_five_seconds_later_counts() -> None:
    found = check(*reg(1, bid(1, COA1), flags="A", dst=CN), data(src=COA2, dst=CN, hao=HOA, at=1010.0),
                  dataclasses.replace(be(), time=1015.0))
    assert hits(found, "MCOA606") == []


def test_mcoa607_data_in_flight_to_a_replaced_coa_is_not_reported() -> None:
    # BID 1 moves from COA1 to COA2 at frame 4 (t=1004); a packet to COA1 0.5 s later was in flight
    found = check(*reg(1, bid(1, COA1)), *reg(2, bid(1, COA2)), to_mn(COA1, at=1004.5))
    assert hits(found, "MCOA607") == []


def test_mcoa607_repeats_of_one_episode_are_one_finding() -> None:
    # the HA tunnels to COA3 (never registered) at frames 3 and 6; BID 2's registration between
    # them makes the engine report the second packet again: one finding, counted twice
    found = check(*reg(1, bid(1, COA1)), to_mn(COA3, at=1010.0), *reg(2, bid(2, COA2)),
                  to_mn(COA3, at=1020.0))
    assert [(f.frame, f.count, f.last_frame) for f in of(found, "MCOA607")] == [(3, 2, 6)]


def test_mcoa605_counts_bindings_that_ended() -> None:
    # threshold 3: BIDs 1-3 held (3, not more); BID 1 de-registered (2); BIDs 4 and 5 make 3 and 4
    found = check(*reg(1, bid(1, COA1), bid(2, COA2), bid(3, COA3)),
                  bu(2, bid(1), lifetime=0), ba(2, bid(1), lifetime=0),
                  *reg(3, bid(4, "2001:db8:4::100")), *reg(4, bid(5, "2001:db8:5::100")),
                  config=CheckerConfig(max_coas_per_hoa=3))
    assert hits(found, "MCOA605") == [8]


# ---------------------------------------------------------------- fast-path data
def _with_rows(packets: list[Packet], data_rows: list[TrafficCount], end: float) -> list[Finding]:
    engine, checker = BindingEngine(), Checker(CheckerConfig())
    for p in number(packets):
        checker.observe(p, engine.feed(p))
    checker.observe_traffic(data_rows, engine.feed_traffic(data_rows))
    checker.observe_traffic([], engine.finish(end))
    return checker.finish(engine)


def test_mcoa601_fast_path_rows_from_two_coas_are_two_findings() -> None:
    # rows have no frame: the CoA and time tell the two findings apart
    found = _with_rows(reg(1, bid(1, COA1), flags="A", dst=CN),
                       [rows(1010.0, via="route-optimised", src=COA2, dst=CN, hao=HOA),
                        rows(1011.0, via="route-optimised", src=COA3, dst=CN, hao=HOA)], end=1020.0)
    assert sorted((f.frame, f.time) for f in of(found, "MCOA601")) == [(None, 1010.0), (None, 1011.0)]


# ---------------------------------------------------------------- robustness and the context
def test_history_rules_tolerate_events_whose_packets_were_not_kept() -> None:
    # a checker given the engine's history but none of the packets must not raise
    engine = BindingEngine()
    packets = [bu(1, bid(1, COA1), flags="H"), *reg(2, bid(2, V4COA)), bu(3, bid(1, COA1), bid(2, V4COA)),
               cot(dbid(1))]
    for p in number(packets):
        engine.feed(p)
    engine.finish(2000.0)
    found = Checker(CheckerConfig()).finish(engine)
    assert all(f.frame is None or f.frame <= 5 for f in found)


def test_held_at_without_a_filter_lists_every_binding_held() -> None:
    engine = BindingEngine()
    for p in number([*reg(1, bid(1, COA1)), *reg(1, bid(2, COA2), flags="A", dst=CN)]):
        engine.feed(p)
    ctx = HistoryContext(engine.events, {}, CheckerConfig())
    assert sorted(ctx.held_at(1004.5), key=lambda kc: kc[1]) == [
        (BindingKey(HA, HOA, 1), COA1), (BindingKey(CN, HOA, 2), COA2)]
    assert ctx.held_at(1003.0) == [(BindingKey(HA, HOA, 1), COA1)]


# ---------------------------------------------------------------- second sample's survivors
def test_mcoa108_says_where_a_care_of_address_belongs() -> None:
    [f] = of(check(coti(bid(1, COA1))), "MCOA108")
    assert f.message.endswith("allowed only in a Binding Update.") and "CoTI" in f.message


def test_mcoa105_first_branch_names_the_length_expected() -> None:
    [f] = of(check(bu(1, dbid(1, COA1, "CD")), dialect=DRAFT), "MCOA105")
    assert "D (IPv4) flag" in f.message and "Length 20" in f.message and "instead of 8" in f.message


def test_mcoa107_a_draft_h_flag_alone_towards_a_cn() -> None:
    # draft §4.2.1: C, O and H are valid only towards the home agent; H alone is enough
    [f] = of(check(bu(1, dbid(1, None, "H"), flags="A", dst=CN), dialect=DRAFT), "MCOA107")
    assert (f.frame, f.bid) == (1, 1) and "H" in f.message


def test_mcoa209_is_about_the_ba_as_a_whole() -> None:
    found = check(bu(1, bid(1, COA1), bid(2, COA2), flags="A", dst=CN),
                  ba(1, bid(1), bid(2), status=129, src=CN))
    [f] = of(found, "MCOA209")
    assert (f.frame, f.bid) == (2, None) and "status 129" in f.message and "168" in f.message


def test_mcoa402_names_the_status_and_the_expected_ones() -> None:
    found = check(bu(1, bid(1, HOA, flags=HOME), src=HOA, mac_src=MN_MAC), ba(1, bid(1), status=1, dst=HOA))
    [f] = of(found, "MCOA402")
    assert "status 1" in f.message and "RETURNHOME WO/NDP (5)" in f.message


def test_mcoa306_a_draft_c_flag_without_care_of_address_accepted() -> None:
    # draft §6.3: C set but Length 4 is malformed; accepting it is the finding, at the BA
    found = check(bu(1, dbid(1, None, "C")), ba(1, dbid(1)), dialect=DRAFT)
    assert [(f.frame, f.bid) for f in of(found, "MCOA306")] == [(2, 1)]


def test_mcoa308_rfc5648_allows_167_for_an_unknown_bid() -> None:
    # RFC §6.2 / §5.7 (I-11): 133 or 167; draft §6.3: 133 only (from a home agent)
    rfc = check(bu(1, bid(9, COA1), lifetime=0), ba(1, bid(9, status=167), status=167, lifetime=0))
    draft = check(bu(1, dbid(9, COA1, "C"), lifetime=0), ba(1, dbid(9, status=167), status=167, lifetime=0),
                  dialect=DRAFT)
    assert (hits(rfc, "MCOA308"), hits(draft, "MCOA308")) == ([], [2])


def test_mcoa312_the_draft_retries_with_the_number_the_ba_gave() -> None:
    # draft §5.10: retry "with the last accepted sequence number" (40 is right); 6275 §11.7.3:
    # the next BU must be newer than 40 (RFC 5648)
    draft = check(bu(5, dbid(1, COA1, "C")), ba(40, dbid(1), status=135), bu(40, dbid(1, COA1, "C")),
                  dialect=DRAFT)
    rfc = check(bu(5, bid(1, COA1)), ba(40, bid(1), status=135), bu(40, bid(1, COA1)))
    assert (hits(draft, "MCOA312"), hits(rfc, "MCOA312")) == ([], [3])


def test_mcoa312_only_after_status_135() -> None:
    # an unmatched BA with status 0 is no out-of-window answer
    found = check(ba(9, bid(1)), bu(3, bid(1, COA1)))
    assert hits(found, "MCOA312") == []


def test_mcoa606_a_binding_error_to_the_home_address_counts() -> None:
    # 6275 §9.3.3: the Binding Error names the home address; it may go to another address
    found = check(*reg(1, bid(1, COA1), flags="A", dst=CN), data(src=COA2, dst=CN, hao=HOA),
                  be(home_address=HOA, dst=COA3))
    assert hits(found, "MCOA606") == []


def test_mcoa607_one_second_after_a_deregistration_is_no_longer_in_flight() -> None:
    # de-registered at the BA, t=1004; a packet to COA1 at exactly 1005.0 is reported
    found = check(*reg(1, bid(1, COA1)), bu(2, bid(1), lifetime=0), ba(2, bid(1), lifetime=0),
                  to_mn(COA1, at=1005.0))
    assert hits(found, "MCOA607") == [5]


def test_mcoa704_not_705_when_the_rejected_bid_is_no_ipv4_coa() -> None:
    found = check(bu(1, bid(1, COA1)), ba(1, V4ACK, bid(1, status=129), status=129))
    assert (hits(found, "MCOA704"), hits(found, "MCOA705")) == ([2], [])


def test_mcoa702_draft_severity_in_a_capture_checked_as_rfc5648() -> None:
    found = check(bu(1, dbid(2, V4COA, "CD")), ba(1, dbid(2), NAT),
                  bu(2, dbid(1, COA1, "C"), dbid(2, V4COA, "CD")), dialect=RFC)
    assert [(f.frame, f.severity) for f in of(found, "MCOA702")] == [(3, "error")]


def test_mcoa503_draft_care_of_test_in_a_capture_checked_as_rfc5648() -> None:
    # the CoTI's BID option is a draft one, so the draft-only rule applies to its CoT
    found = check(coti(dbid(1)), cot(dbid(2)), dialect=RFC)
    assert hits(found, "MCOA503") == [2]


def test_sequence_numbers_wrap_at_16_bits() -> None:
    # 6275 §9.5.1: modulo 2**16; 32769 is older than 0 (0 is 32767 ahead), 32768 ahead is not
    assert seq_before(32769, 0) and seq_before(65535, 0)
    assert not seq_before(32768, 0) and not seq_before(0, 32768) and not seq_before(5, 5)


# ---------------------------------------------------------------- third sample's survivors
def test_mcoa302_names_the_bids_not_copied() -> None:
    found = check(bu(1, bid(1, COA1), bid(2, COA2), bid(3, COA3)), ba(1, bid(1)))
    [f] = of(found, "MCOA302")
    assert "2, 3" in f.message and (f.frame, f.bid) == (2, 2)


def test_mcoa107_lists_every_home_agent_only_flag() -> None:
    [f] = of(check(bu(1, dbid(1, COA1, "CO"), flags="A", dst=CN), dialect=DRAFT), "MCOA107")
    assert "C/O" in f.message


def test_mcoa315_says_what_was_expected() -> None:
    [f] = of(check(bu(1), ba(1), bu(2, bid(1, COA1)), ba(2, bid(1))), "MCOA315")
    assert "status 0" in f.message and "expected BID CONFLICT / 165" in f.message


def test_a_draft_bid_option_in_a_capture_checked_as_rfc5648_gets_the_draft_severity() -> None:
    # MCOA106 is an error in draft-05, a warning in RFC 5648 (I-27): the option's dialect decides
    [f] = of(check(bu(1, bid(1, COA1, flags=0x81, dialect=DRAFT)), dialect=RFC), "MCOA106")
    assert f.severity == "error"


def test_mcoa504_a_bid_without_flags_is_answered_with_status_0() -> None:
    # draft §6.2: MALFORMED only for C or O in the CoTI's option; without flags 0 is right
    assert hits(check(coti(dbid(1)), cot(dbid(1)), dialect=DRAFT), "MCOA504") == []


def test_an_episode_runs_on_while_each_hit_follows_the_last_within_60_s() -> None:
    config = CheckerConfig()
    found = [complete(BY_CODE["MCOA607"], Hit("x", frame, t, HOA, episode="e"), config)
             for frame, t in ((1, 1000.0), (2, 1050.0), (3, 1100.0), (4, 1200.0))]
    merged = finalise([f for f in found if f is not None])
    # 1050 is 50 s after 1000, 1100 is 50 s after 1050: one episode; 1200 is 100 s later: a new one
    assert [(f.frame, f.count, f.last_frame) for f in merged] == [(1, 3, 3), (4, 1, None)]
