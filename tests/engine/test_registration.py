"""Binding reconstruction rules (issue 4 semantics), one test per rule, on hand-built records."""

from __future__ import annotations

from dissector.codepoints import Dialect
from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine, EngineConfig
from tests.engine.helpers import (
    CN,
    COA1,
    COA2,
    COA3,
    HA,
    HOA,
    ba,
    bid,
    bu,
    data,
    intervals,
    run,
    table,
)

D = Dialect.DRAFT05


def test_bulk_registration_starts_one_binding_per_bid_at_the_ba_time() -> None:
    e = run(bu(10.0, seq=1, bids=(bid(1, COA1), bid(2, COA2), bid(3, COA3)), o_header=True),
            ba(10.2, seq=1, bids=(bid(1), bid(2), bid(3))), end=20)
    assert intervals(e) == [(1, COA1, 10.2, None, None), (2, COA2, 10.2, None, None),
                            (3, COA3, 10.2, None, None)]
    assert all(r.confirmed and r.role == "home-agent" for r in e.bindings())


def test_bu_without_a_flag_takes_effect_when_sent() -> None:
    e = run(bu(5.0, seq=1, flags="", dst=CN, bids=(bid(1, COA1),)), end=6)
    assert intervals(e) == [(1, COA1, 5.0, None, None)]
    assert e.bindings()[0].role == "correspondent"


def test_granted_lifetime_comes_from_the_ba() -> None:
    e = run(bu(0.0, seq=1, lifetime=400, bids=(bid(1, COA1),)),
            ba(0.5, seq=1, lifetime=100, bids=(bid(1),)), end=1000)
    assert intervals(e) == [(1, COA1, 0.5, 100.5, "expired")]
    assert e.bindings()[0].lifetime == 100


def test_refresh_with_the_same_coa_extends_the_same_binding() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)), ba(0.1, seq=1, bids=(bid(1),)),
            bu(50.0, seq=2, bids=(bid(1, COA1),)), ba(50.1, seq=2, bids=(bid(1),)), end=500)
    assert intervals(e) == [(1, COA1, 0.1, 110.1, "expired")]


def test_new_coa_under_the_same_bid_replaces_the_binding() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)), ba(0.1, seq=1, bids=(bid(1),)),
            bu(20.0, seq=2, src=COA2, bids=(bid(1, COA2),)), ba(20.1, seq=2, dst=COA2, bids=(bid(1),)),
            end=30)
    assert intervals(e) == [(1, COA1, 0.1, 20.1, "replaced"), (1, COA2, 20.1, None, None)]
    bul = [(r.bid, r.coa, r.start, r.end, r.end_reason) for r in e.bul()]
    # the MN's new entry starts with its BU but replaces the old one only when accepted
    assert bul == [(1, COA1, 0.0, 20.1, "replaced"), (1, COA2, 20.0, None, None)]


def test_per_bid_deregistration_ends_only_that_bid() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), o_header=True),
            ba(0.1, seq=1, bids=(bid(1), bid(2))),
            bu(10.0, seq=2, lifetime=0, bids=(bid(2),)), ba(10.1, seq=2, lifetime=0, bids=(bid(2),)),
            end=20)
    assert intervals(e) == [(1, COA1, 0.1, None, None), (2, COA2, 0.1, 10.1, "deregistered")]
    assert [(r.bid, r.end_reason) for r in e.bul()] == [(1, None), (2, "deregistered")]


def test_full_deregistration_ends_everything() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), o_header=True),
            ba(0.1, seq=1, bids=(bid(1), bid(2))),
            bu(10.0, seq=2, lifetime=0), ba(10.1, seq=2, lifetime=0), end=20)
    assert intervals(e) == [(1, COA1, 0.1, 10.1, "deregistered"), (2, COA2, 0.1, 10.1, "deregistered")]
    assert {r.end_reason for r in e.bul()} == {"deregistered"}


def test_deregistration_of_an_unknown_bid_changes_nothing() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)), ba(0.1, seq=1, bids=(bid(1),)),
            bu(5.0, seq=2, lifetime=0, bids=(bid(9),)), ba(5.1, seq=2, status=133, bids=(bid(9),)), end=9)
    assert intervals(e) == [(1, COA1, 0.1, None, None)]


def test_regular_bu_replaces_all_bindings() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), o_header=True),
            ba(0.1, seq=1, bids=(bid(1), bid(2))),
            bu(10.0, seq=2, src=COA3), ba(10.1, seq=2, dst=COA3), end=20)
    assert intervals(e) == [(1, COA1, 0.1, 10.1, "overwritten"), (2, COA2, 0.1, 10.1, "overwritten"),
                            (None, COA3, 10.1, None, None)]


def test_rfc_overwrite_flag_in_the_bu_header_removes_other_bindings() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2))), ba(0.1, seq=1, bids=(bid(1), bid(2))),
            bu(10.0, seq=2, bids=(bid(3, COA3),), o_header=True), ba(10.1, seq=2, bids=(bid(3),)), end=20)
    assert intervals(e) == [(1, COA1, 0.1, 10.1, "overwritten"), (2, COA2, 0.1, 10.1, "overwritten"),
                            (3, COA3, 10.1, None, None)]


def test_draft_overwrite_lives_in_the_option_not_the_header() -> None:
    first = (bu(0.0, seq=1, bids=(bid(1, COA1, dialect=D), bid(2, COA2, dialect=D))),
             ba(0.1, seq=1, bids=(bid(1, dialect=D), bid(2, dialect=D))))
    header_only = run(*first, bu(10.0, seq=2, bids=(bid(3, COA3, dialect=D),), o_header=True),
                      ba(10.1, seq=2, bids=(bid(3, dialect=D),)), end=20)
    assert [r.end for r in header_only.bindings()] == [None, None, None]  # 0x0040 is reserved in draft
    option_o = run(*first, bu(10.0, seq=2, bids=(bid(3, COA3, flags=0x40, dialect=D),)),
                   ba(10.1, seq=2, bids=(bid(3, dialect=D),)), end=20)
    assert [r.end_reason for r in option_o.bindings()] == ["overwritten", "overwritten", None]


def test_notcomplete_installs_only_accepted_bids() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), o_header=True),
            ba(0.1, seq=1, status=4, bids=(bid(1), bid(2, status=164))), end=5)
    assert intervals(e) == [(1, COA1, 0.1, None, None)]
    rejected = [x for x in e.events if isinstance(x, ev.BindingRejected)]
    assert [(x.key.bid, x.status) for x in rejected] == [(2, 164)]
    # I-9: BID status 0 -> the BA status (4) is the effective status of BID 1
    assert [(r.bid, r.end_reason, r.status) for r in e.bul()] == [(1, None, 4), (2, "rejected", 164)]


def test_overwrite_with_notcomplete_still_removes_old_bindings() -> None:  # I-28
    e = run(bu(0.0, seq=1, bids=(bid(5, COA3),)), ba(0.1, seq=1, bids=(bid(5),)),
            bu(10.0, seq=2, bids=(bid(1, COA1), bid(2, COA2)), o_header=True),
            ba(10.1, seq=2, status=4, bids=(bid(1), bid(2, status=164))), end=20)
    assert intervals(e) == [(5, COA3, 0.1, 10.1, "overwritten"), (1, COA1, 10.1, None, None)]


def test_whole_bu_rejected_when_ba_status_is_an_error_and_bid_statuses_are_zero() -> None:  # I-9
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2))), ba(0.1, seq=1, status=168,
                                                                  bids=(bid(1), bid(2))), end=5)
    assert intervals(e) == []
    assert {r.end_reason for r in e.bul()} == {"rejected"}


def test_draft_bid_conflict_installs_unconfirmed() -> None:  # I-7
    regular = (bu(0.0, seq=1, src=COA1), ba(0.1, seq=1))
    e = run(*regular, bu(10.0, seq=2, src=COA2, bids=(bid(1, COA2, dialect=D),)),
            ba(10.1, seq=2, dst=COA2, status=165, bids=(bid(1, dialect=D),)), end=20)
    assert intervals(e) == [(None, COA1, 0.1, 10.1, "overwritten"), (1, COA2, 10.1, None, None)]
    assert e.bindings()[1].confirmed is False
    assert e.bul()[-1].end_reason == "rejected"  # the MN believes it was rejected
    switched = run(*regular, bu(10.0, seq=2, src=COA2, bids=(bid(1, COA2, dialect=D),)),
                   ba(10.1, seq=2, dst=COA2, status=165, bids=(bid(1, dialect=D),)),
                   end=20, engine=BindingEngine(EngineConfig(bid_conflict_installs=False)))
    assert intervals(switched) == [(None, COA1, 0.1, None, None)]


def test_rfc_non_mcoa_binding_exists_changes_nothing() -> None:  # I-8
    e = run(bu(0.0, seq=1, src=COA1), ba(0.1, seq=1),
            bu(10.0, seq=2, src=COA2, bids=(bid(1, COA2),)),
            ba(10.1, seq=2, dst=COA2, status=165, bids=(bid(1),)), end=20)
    assert intervals(e) == [(None, COA1, 0.1, None, None)]


def test_rfc_home_binding_has_coa_equal_to_hoa_and_nd_owner() -> None:  # I-15, I-18
    e = run(bu(0.0, seq=1, src=HOA, hao=False, bids=(bid(3, HOA, flags=0x80),)),
            ba(0.1, seq=1, dst=HOA, rh2=False, status=5, bids=(bid(3),)), end=5)
    [row] = e.bindings()
    assert (row.bid, row.coa, row.home, row.start) == (3, HOA, True, 0.1)
    owners = [x for x in e.events if isinstance(x, ev.HomeNdOwner)]
    assert [(x.owner, x.status) for x in owners] == [("home-agent", 5)]


def test_draft_home_binding_lifetime_zero_has_no_expiry() -> None:  # I-13
    e = run(bu(0.0, seq=1, bids=(bid(3, COA3, dialect=D),)), ba(0.1, seq=1, bids=(bid(3, dialect=D),)),
            bu(10.0, seq=2, src=HOA, hao=False, lifetime=0, bids=(bid(3, flags=0x20, dialect=D),)),
            ba(10.1, seq=2, dst=HOA, rh2=False, lifetime=0, bids=(bid(3, status=0, dialect=D),)),
            end=5000)
    assert intervals(e) == [(3, COA3, 0.1, 10.1, "replaced"), (3, HOA, 10.1, None, None)]
    assert e.bindings()[1].home
    owners = [x.owner for x in e.events if isinstance(x, ev.HomeNdOwner)]
    assert owners == ["mobile-node"]


def test_rfc_length4_refresh_keeps_the_stored_coa() -> None:  # I-6
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)), ba(0.1, seq=1, bids=(bid(1),)),
            bu(30.0, seq=2, src=COA2, bids=(bid(1),)), ba(30.1, seq=2, dst=COA2, bids=(bid(1),)), end=40)
    assert intervals(e) == [(1, COA1, 0.1, None, None)]


def test_draft_c_clear_takes_the_coa_from_the_source() -> None:  # I-5
    e = run(bu(0.0, seq=1, src=COA2, dst=CN, flags="A", bids=(bid(2, dialect=D),)),
            ba(0.1, seq=1, src=CN, dst=COA2, bids=(bid(2, dialect=D),)), end=5)
    assert intervals(e) == [(2, COA2, 0.1, None, None)]


def test_dsmipv6_nat_uses_the_outer_ipv4_source() -> None:  # I-22
    e = run(bu(0.0, seq=1, src=HOA, hao=False, tunnel="udp", outer_src="198.51.100.7",
               outer_dst="192.0.2.1", bids=(bid(4, "10.0.0.7"),)),
            ba(0.1, seq=1, dst=HOA, rh2=False, bids=(bid(4),)), end=5)
    [row] = e.bindings()
    assert (row.coa, row.claimed_coa) == ("198.51.100.7", "10.0.0.7")


def test_legacy_receiver_without_bid_in_the_ba_makes_one_regular_binding() -> None:  # I-10
    e = run(bu(0.0, seq=1, dst=CN, flags="A", bids=(bid(1, COA1),)),
            ba(0.1, seq=1, src=CN), end=5)
    assert intervals(e) == [(None, COA1, 0.1, None, None)]


def test_retransmission_with_the_same_sequence_is_not_counted_twice() -> None:
    e = run(bu(0.0, seq=7, bids=(bid(1, COA1),)), bu(1.0, seq=7, bids=(bid(1, COA1),)),
            ba(1.1, seq=7, bids=(bid(1),)), end=5)
    assert intervals(e) == [(1, COA1, 1.1, None, None)]
    assert len([x for x in e.events if isinstance(x, ev.RetransmissionSeen)]) == 1
    assert len([x for x in e.events if isinstance(x, ev.BindingUpdateProcessed)]) == 1
    assert e.bul()[0].start == 0.0


def test_same_message_at_two_interfaces_is_one_message_first_sighting_wins() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),), interface=0), bu(0.02, seq=1, bids=(bid(1, COA1),),
                                                                  interface=1),
            ba(0.1, seq=1, bids=(bid(1),), interface=1), ba(0.12, seq=1, bids=(bid(1),), interface=0),
            end=5)
    assert intervals(e) == [(1, COA1, 0.1, None, None)]
    dups = [x for x in e.events if isinstance(x, ev.DuplicateSighting)]
    assert [(x.kind, x.interface) for x in dups] == [("BU", 1), ("BA", 0)]
    assert not [x for x in e.events if isinstance(x, ev.RetransmissionSeen)]


def test_unanswered_bu_invents_no_binding() -> None:
    e = run(bu(0.0, seq=1, lifetime=60, bids=(bid(1, COA1),)),
            bu(1.0, seq=2, lifetime=60, bids=(bid(1, COA1),)), ba(1.1, seq=2, bids=(bid(1),)), end=10)
    assert intervals(e) == [(1, COA1, 1.1, None, None)]  # the first BU was lost on its way
    unanswered = [x for x in e.events if isinstance(x, ev.UnansweredBU)]
    assert [(x.frame, x.reason) for x in unanswered] == [(e.bul()[0].start_frame, "superseded")]
    assert [(r.start, r.acknowledged) for r in e.bul()] == [(0.0, True)]


def test_lost_ba_with_data_through_the_coa_installs_an_unconfirmed_binding() -> None:
    # no BA within the engine's 32 s timeout, then the HA tunnels to the CoA: it did accept
    tunnelled = data(40.0, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst=COA1)
    e = run(bu(0.0, seq=1, lifetime=60, bids=(bid(1, COA1),)), tunnelled, end=45)
    [row] = e.bindings()
    assert (row.coa, row.start, row.confirmed, row.end) == (COA1, 0.0, False, None)
    assert [(t["bid"], t["packets"]) for t in e.traffic()] == [(1, 1)]
    assert not e.bul()[0].acknowledged


def test_capture_starting_mid_life_marks_length4_refresh_pre_existing() -> None:
    e = run(bu(100.0, seq=40, bids=(bid(1),)), ba(100.1, seq=40, bids=(bid(1),)), end=110,
            engine=None)
    [row] = e.bindings()
    assert row.pre_existing and row.start == 100.0  # the capture's first record


def test_unmatched_ba_changes_nothing() -> None:
    e = run(ba(1.0, seq=9, bids=(bid(1),)), end=2)
    assert e.bindings() == []
    assert [type(x) for x in e.events if not isinstance(x, ev.MessageSeen)] == [ev.UnmatchedBA]


def test_state_at_answers_the_cache_at_any_time() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), o_header=True),
            ba(0.1, seq=1, bids=(bid(1), bid(2))),
            bu(10.0, seq=2, lifetime=0, bids=(bid(2),)), ba(10.1, seq=2, lifetime=0, bids=(bid(2),)), end=20)
    assert table(e, HA, 5.0) == {(HOA, COA1, 1), (HOA, COA2, 2)}
    assert table(e, HA, 15.0) == {(HOA, COA1, 1)}
    assert table(e, HA, 0.05) == set()


def test_overwrite_reopens_every_binding_even_with_the_same_coa() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), o_header=True),
            ba(0.1, seq=1, bids=(bid(1), bid(2))),
            bu(10.0, seq=2, bids=(bid(1, COA1),), o_header=True), ba(10.1, seq=2, bids=(bid(1),)), end=20)
    assert intervals(e) == [(1, COA1, 0.1, 10.1, "overwritten"), (2, COA2, 0.1, 10.1, "overwritten"),
                            (1, COA1, 10.1, None, None)]
    # the MN's list keeps BID 1's entry and drops BID 2's
    assert [(r.bid, r.end, r.end_reason) for r in e.bul()] == [(1, None, None), (2, 10.1, "overwritten")]


def test_status_135_pairs_with_the_pending_bu_and_changes_nothing() -> None:
    e = run(bu(0.0, seq=10, bids=(bid(1, COA1),)), ba(0.1, seq=10, bids=(bid(1),)),
            bu(5.0, seq=3, bids=(bid(1, COA2),)), ba(5.1, seq=10, status=135, lifetime=0, bids=(bid(1),)),
            bu(5.3, seq=11, bids=(bid(1, COA2),)), ba(5.4, seq=11, bids=(bid(1),)), end=9)
    assert intervals(e) == [(1, COA1, 0.1, 5.4, "replaced"), (1, COA2, 5.4, None, None)]
    assert not [x for x in e.events if isinstance(x, ev.UnansweredBU)]
    processed = [x for x in e.events if isinstance(x, ev.BindingUpdateProcessed)]
    assert [(x.key.seq, x.ba_status) for x in processed] == [(10, 0), (3, 135), (11, 0)]


def test_rejected_refresh_keeps_the_mn_entry_in_force() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)), ba(0.1, seq=1, bids=(bid(1),)),
            bu(10.0, seq=2, bids=(bid(1, COA1),)), ba(10.1, seq=2, status=129, bids=(bid(1),)), end=20)
    assert intervals(e) == [(1, COA1, 0.1, None, None)]
    assert [(r.coa, r.end_reason) for r in e.bul()] == [(COA1, None)]


def test_tunnel_before_any_signalling_marks_the_first_registration_pre_existing() -> None:
    early = data(1.0, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst=COA1)
    e = run(early, bu(50.0, seq=40, bids=(bid(1, COA1), bid(2, COA2))),
            ba(50.1, seq=40, bids=(bid(1), bid(2))), end=60)
    assert [(r.bid, r.pre_existing, r.start) for r in e.bindings()] == [(1, True, 1.0), (2, False, 50.1)]
