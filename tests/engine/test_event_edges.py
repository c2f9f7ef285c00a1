"""Engine boundaries and branches the fast tests had not reached (issue 16, point 3: mutants
that survived a second sample). Expected values are worked out from the fixture and the texts
cited; frame n is the n-th packet, events carry the time and frame of the packet that caused them.
"""

from __future__ import annotations

import dataclasses

import pytest

from dissector.codepoints import Dialect
from dissector.records import BindingIdentifier, EspInfo, IPv4HomeAddress
from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine, EngineConfig
from mcoaviz.engine.events import BidResult
from mcoaviz.engine.keys import BindingKey, BulKey
from mcoaviz.engine.states import BindingState, Input, StateError, next_state
from mcoaviz.engine.traffic import TrafficTable
from tests.engine.helpers import CN, COA1, COA2, COA3, HA, HOA, ba, bid, bu, data, run

HOA2 = "2001:db8:a::200"
K1 = BindingKey(HA, HOA, 1)


def _processed(engine: BindingEngine, frame: int) -> ev.BindingUpdateProcessed:
    [p] = [e for e in engine.events if isinstance(e, ev.BindingUpdateProcessed) and e.frame == frame]
    return p


def _dbid(value: int, coa: str | None = None, flags: int = 0) -> BindingIdentifier:
    return bid(value, coa, flags=flags, dialect=Dialect.DRAFT05)


# ---------------------------------------------------------------- BA timeout (6275 §13)
def test_a_ba_exactly_at_the_timeout_still_answers_the_bu() -> None:
    # MAX_BINDACK_TIMEOUT 32 s: the engine gives up only once more than 32 s have passed
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), ba(32.0, seq=1, bids=(bid(1),), frame=2),
                 end=33.0)
    assert [e for e in engine.events if isinstance(e, ev.UnansweredBU)] == []
    assert [(r.bid, r.coa, r.start) for r in engine.bindings()] == [(1, COA1, 32.0)]


def test_a_bu_to_another_peer_does_not_supersede_a_pending_one() -> None:
    # superseding needs the same peer and home address: a BU to the CN leaves the HA's pending
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1),
                 bu(0.5, seq=1, flags="A", dst=CN, bids=(bid(1, COA1),), frame=2),
                 ba(1.0, seq=1, bids=(bid(1),), frame=3), end=2.0)
    unanswered = [(e.frame, e.reason) for e in engine.events if isinstance(e, ev.UnansweredBU)]
    assert unanswered == [(2, "capture-end")]
    assert _processed(engine, 3).bu_frame == 1


# ---------------------------------------------------------------- the MN's list
def test_the_list_entry_takes_the_granted_lifetime() -> None:
    # the MN asked 60 s, the HA granted 30 (6275 §11.7.3: the BA's lifetime is what it got)
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1),
                 ba(0.1, seq=1, lifetime=30, bids=(bid(1),), frame=2), end=40.0)
    [row] = engine.bul()
    assert (row.lifetime, row.end, row.end_reason) == (30, 30.1, "expired")


def test_the_list_at_the_instant_its_entry_was_sent() -> None:
    engine = run(bu(5.0, seq=1, bids=(bid(1, COA1),), frame=1), end=6.0)
    assert [(r["bid"], r["coa"]) for r in engine.state_at(5.0).bul] == [(1, COA1)]
    assert engine.state_at(4.9).bul == ()


def test_a_draft_bulk_bu_takes_the_coa_of_the_same_mobile_node_only() -> None:
    # HOA2 holds BID 2 at COA3 (frames 1-2), HOA holds BID 2 at COA2 (3-4); HOA's bulk BU to the
    # CN without CoA fields (draft §3) uses HOA's own COA2 for BID 2, and its source for BID 1
    engine = run(bu(0.0, seq=1, hoa=HOA2, bids=(_dbid(2, COA3),), frame=1),
                 ba(0.1, seq=1, hoa=HOA2, bids=(_dbid(2),), frame=2),
                 bu(1.0, seq=1, src=COA2, bids=(_dbid(2, COA2),), frame=3),
                 ba(1.1, seq=1, dst=COA2, bids=(_dbid(2),), frame=4),
                 bu(2.0, seq=2, flags="A", dst=CN, bids=(_dbid(1), _dbid(2)), frame=5), end=3.0)
    sent = [(e.key.bid, e.change, e.coa) for e in engine.events
            if isinstance(e, ev.BulEntryChanged) and e.frame == 5]
    assert sent == [(1, "sent", COA1), (2, "sent", COA2)]


# ---------------------------------------------------------------- BID outcomes
def test_i7_switch_off_reports_the_bids_refused() -> None:
    # EngineConfig(bid_conflict_installs=False): the BID CONFLICT installs nothing (I-7 off)
    engine = run(bu(0.0, seq=1, frame=1), ba(0.1, seq=1, frame=2),
                 bu(1.0, seq=2, lifetime=40, bids=(_dbid(1, COA2),), frame=3),
                 ba(1.1, seq=2, status=165, lifetime=0, bids=(_dbid(1),), frame=4),
                 end=2.0, engine=BindingEngine(EngineConfig(bid_conflict_installs=False)))
    assert _processed(engine, 4).results == (BidResult(1, None, COA2, 165, False, "rejected"),)


def test_draft_return_home_with_the_home_bid_first_still_deregisters_the_others() -> None:
    engine = run(bu(0.0, seq=1, bids=(_dbid(1, COA1), _dbid(2, COA2)), frame=1),
                 ba(0.1, seq=1, bids=(_dbid(1), _dbid(2)), frame=2),
                 bu(5.0, seq=2, lifetime=0, src=HOA, bids=(_dbid(1, flags=0x20), _dbid(2)), frame=3),
                 ba(5.1, seq=2, lifetime=0, dst=HOA, bids=(_dbid(1), _dbid(2)), frame=4), end=6.0)
    actions = [(r.bid, r.action) for r in _processed(engine, 4).results]
    assert actions == [(1, "replaced"), (2, "deregistered")]
    assert [(e.key.bid, e.reason) for e in engine.events if isinstance(e, ev.BindingEnded)] == [
        (1, "replaced"), (2, "deregistered")]


def test_an_unknown_bid_deregistration_keeps_the_coa_it_named() -> None:
    engine = run(bu(0.0, seq=1, lifetime=0, bids=(bid(1, COA1),), frame=1),
                 ba(0.1, seq=1, lifetime=0, bids=(bid(1),), frame=2), end=1.0)
    assert _processed(engine, 2).results == (BidResult(1, None, COA1, 0, True, "unknown-bid"),)


def test_a_home_bid_the_ba_does_not_copy_takes_the_ba_status() -> None:
    # bulk home (BID 1, CoA = HoA) + BID 2; the BA copies BID 2 only: BID 1's status is the BA's (I-9)
    engine = run(bu(0.0, seq=1, bids=(bid(1, HOA, flags=0x80), bid(2, COA2)), frame=1),
                 ba(0.1, seq=1, bids=(bid(2),), frame=2), end=1.0)
    assert [e for e in engine.events if isinstance(e, ev.HomeNdOwner)] == [
        ev.HomeNdOwner(0.1, 2, K1, "mobile-node", 0)]


def test_an_impossible_transition_names_the_state_and_the_input() -> None:
    with pytest.raises(StateError, match="absent.*expire"):
        next_state(BindingState.ABSENT, Input.EXPIRE)


# ---------------------------------------------------------------- unanswered BUs and data (I-29)
def test_an_unanswered_regular_bu_is_applied_when_the_ha_tunnels_to_its_coa() -> None:
    # no BA captured (frame 1); the HA tunnels to COA2 at t=40: it did accept, from the BU's time
    engine = run(bu(0.0, seq=1, src=COA2, frame=1),
                 data(40.0, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst=COA2), end=41.0)
    assert [(r.bid, r.coa, r.start, r.confirmed) for r in engine.bindings()] == [(None, COA2, 0.0, False)]


def test_data_from_a_coa_is_no_evidence_for_an_unanswered_bu() -> None:
    # the MN may use a CoA before its BA: reverse-tunnelled data from COA1 proves nothing
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1),
                 data(40.0, via="tunnel", src=HOA, dst=CN, outer_src=COA1, outer_dst=HA), end=41.0)
    assert engine.bindings() == []


def test_unbound_data_is_reported_again_after_the_bindings_changed() -> None:
    # COA3 never registered: reported at t=1; BID 2 registered and de-registered in between,
    # so the packet at t=5 is a new observation of the same thing
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=1, bids=(bid(1),), frame=2),
                 data(1.0, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst=COA3),
                 bu(2.0, seq=2, bids=(bid(2, COA2),), frame=4), ba(2.1, seq=2, bids=(bid(2),), frame=5),
                 bu(3.0, seq=3, lifetime=0, bids=(bid(2),), frame=6),
                 ba(3.1, seq=3, lifetime=0, bids=(bid(2),), frame=7),
                 data(5.0, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst=COA3), end=6.0)
    assert [e.time for e in engine.events if isinstance(e, ev.DataWithoutBinding)] == [1.0, 5.0]


# ---------------------------------------------------------------- traffic
def test_traffic_keeps_the_capture_interface() -> None:
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=1, bids=(bid(1),), frame=2),
                 data(1.0, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst=COA1, interface=1), end=2.0)
    assert [(r["interface"], r["coa"], r["packets"]) for r in engine.traffic()] == [(1, COA1, 1)]


def test_esp_protected_route_optimised_packets_count_only_when_null_decoded() -> None:
    # encrypted ESP with a HAO is MN <-> HA signalling in transport mode, not data; ESP-NULL
    # decoded is readable data
    reg = (bu(0.0, seq=1, flags="A", dst=CN, bids=(bid(1, COA1),), frame=1),
           ba(0.1, seq=1, src=CN, bids=(bid(1),), frame=2))
    hao = data(1.0, via="route-optimised", src=COA1, dst=CN, hao=HOA)
    encrypted = dataclasses.replace(hao, esp=EspInfo(spi=1, sequence=1, null_decoded=False))
    null = dataclasses.replace(hao, time=2.0, esp=EspInfo(spi=1, sequence=2, null_decoded=True))
    engine = run(*reg, encrypted, null, end=3.0)
    assert [(r["coa"], r["packets"]) for r in engine.traffic()] == [(COA1, 1)]


def test_data_to_the_ipv4_home_address_belongs_to_its_home_address() -> None:
    # DSMIPv6: the BU's IPv4 Home Address option (RFC 5555) names the MN's IPv4 HoA
    v4hoa = IPv4HomeAddress(offset=12, prefix_length=24, p_flag=False, address="10.0.0.5")
    reg = (bu(0.0, seq=1, src=HOA, hao=False, tunnel="udp", outer_src="198.51.100.7", outer_dst="192.0.2.1",
              bids=(bid(4, "198.51.100.7"),), options=(v4hoa,), frame=1),
           ba(0.1, seq=1, dst=HOA, rh2=False, bids=(bid(4),), frame=2))
    engine = run(*reg, data(1.0, via="udp", src="192.0.2.99", dst="10.0.0.5", outer_src="192.0.2.1",
                            outer_dst="198.51.100.7"), end=2.0)
    assert [(r["hoa"], r["coa"], r["bid"]) for r in engine.traffic()] == [(HOA, "198.51.100.7", 4)]


def test_two_second_bins_start_at_even_seconds() -> None:
    # seconds 0 and 2048 need 2049 one-second bins: width 2 (1025 bins); second 2047 is in bin 2046
    table = TrafficTable()
    key = (0, HA, HOA, COA1, 1, "to-mn", "tunnel")
    for second in (0, 2048, 2047):
        table.add(key, 1, 100, float(second), float(second), second)
    assert table.width == 2
    assert table.bins[key] == {0: [1, 100], 2046: [1, 100], 2048: [1, 100]}


def test_bul_key_of_the_sent_rows() -> None:
    # (kept small: the list's rows name their key as the events do)
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), end=1.0)
    assert [r.key for r in engine.bul()] == [BulKey(HOA, HA, 1)]


def test_a_refused_draft_return_home_leaves_the_list_entry() -> None:
    # the HA refuses (129) the lifetime-0 H BU: it keeps BID 1 at COA1, and so does the MN's list
    # (6275 §11.7.3: a rejected BU changes nothing); accepted (0), both end at the BA
    def home(status: int) -> BindingEngine:
        return run(bu(0.0, seq=1, bids=(_dbid(1, COA1),), frame=1), ba(0.1, seq=1, bids=(_dbid(1),), frame=2),
                   bu(5.0, seq=2, lifetime=0, src=HOA, bids=(_dbid(1, flags=0x20),), frame=3),
                   ba(5.1, seq=2, status=status, lifetime=0, dst=HOA, bids=(_dbid(1),), frame=4), end=10.0)
    refused, accepted = home(129), home(0)
    assert [(r.coa, r.end) for r in refused.bindings()] == [(COA1, None)]
    assert [(r.coa, r.end, r.end_reason) for r in refused.bul()] == [(COA1, None, None)]
    assert [(r.coa, r.end, r.end_reason) for r in accepted.bul()] == [(COA1, 5.1, "deregistered")]


# ---------------------------------------------------------------- third sample's survivors
def test_retransmissions_count_their_attempts() -> None:
    # the same BU (same peer, HoA, sequence) sent again on the same interface: attempts 2 and 3
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), bu(1.0, seq=1, bids=(bid(1, COA1),), frame=2),
                 bu(3.0, seq=1, bids=(bid(1, COA1),), frame=3), end=4.0)
    resent = [(e.frame, e.first_frame, e.attempt) for e in engine.events
              if isinstance(e, ev.RetransmissionSeen)]
    assert resent == [(2, 1, 2), (3, 1, 3)]


def test_the_superseding_bu_is_still_seen() -> None:
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), bu(1.0, seq=2, bids=(bid(1, COA1),), frame=2),
                 end=2.0)
    # frame 2's events: seen, its list entry refreshed, and at the end of the capture its own
    # unanswered decision (the superseded BU's carries frame 1, the BU it concerns)
    assert [type(e).__name__ for e in engine.events if e.frame == 2] == [
        "MessageSeen", "BulEntryChanged", "UnansweredBU"]


def test_bus_of_the_same_instant_time_out_in_the_order_sent() -> None:
    # 6275 §13 timeout; "oldest first (ties: order added)"
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1),
                 bu(0.0, seq=1, flags="A", dst=CN, bids=(bid(1, COA1),), frame=2),
                 bu(40.0, seq=2, hoa=HOA2, bids=(bid(1, COA2),), frame=3), end=41.0)
    assert [(e.frame, e.reason) for e in engine.events if isinstance(e, ev.UnansweredBU)][:2] == [
        (1, "timeout"), (2, "timeout")]


def test_interpretations_named_i8_i10_i32() -> None:
    i8 = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=1, status=165, frame=2), end=1.0)
    assert _processed(i8, 2).interpretations == ("I-8",)
    i10 = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=1, frame=2), end=1.0)
    assert _processed(i10, 2).interpretations == ("I-10",)
    [note] = [e for e in i10.events if isinstance(e, ev.DialectNote)]
    assert (note.time, note.frame, note.interpretation) == (0.1, 2, "I-10")
    # I-32: C (0x80) in a draft BID option towards a CN is ignored by the CN's state
    i32 = run(bu(0.0, seq=1, flags="A", dst=CN, bids=(_dbid(1, COA1),), frame=1),
              ba(0.1, seq=1, src=CN, bids=(_dbid(1),), frame=2), end=1.0)
    assert _processed(i32, 2).interpretations == ("I-32",)


def test_a_bid_refused_with_128_does_not_overwrite_the_regular_binding() -> None:
    # effective status 128 (the BA's, I-9) is the first refusal code: nothing is accepted
    engine = run(bu(0.0, seq=1, frame=1), ba(0.1, seq=1, frame=2),
                 bu(1.0, seq=2, bids=(bid(1, COA2),), frame=3),
                 ba(1.1, seq=2, status=128, bids=(bid(1),), frame=4), end=2.0)
    assert [(r.bid, r.coa, r.end) for r in engine.bindings()] == [(None, COA1, None)]


def test_a_dsmipv6_regular_bu_registers_the_outer_ipv4_source() -> None:
    # RFC 5555: the IPv4 CoA is the outer source of the UDP-encapsulated BU
    engine = run(bu(0.0, seq=1, src=HOA, hao=False, tunnel="udp", outer_src="198.51.100.7",
                    outer_dst="192.0.2.1", frame=1),
                 ba(0.1, seq=1, dst=HOA, rh2=False, frame=2), end=1.0)
    assert [(r.bid, r.coa) for r in engine.bindings()] == [(None, "198.51.100.7")]


def test_the_claimed_ipv4_coa_is_in_the_exported_row() -> None:
    # I-22: behind a NAT the row's CoA is the outer source, the option's address is kept
    engine = run(bu(0.0, seq=1, src=HOA, hao=False, tunnel="udp", outer_src="203.0.113.5",
                    outer_dst="192.0.2.1", bids=(bid(1, "192.168.1.10"),), frame=1),
                 ba(0.1, seq=1, dst=HOA, rh2=False, bids=(bid(1),), frame=2), end=1.0)
    [row] = [r.to_dict() for r in engine.bindings()]
    assert (row["coa"], row["claimed_coa"]) == ("203.0.113.5", "192.168.1.10")


def test_data_to_a_coa_before_its_registration_makes_the_binding_pre_existing() -> None:
    # the CN sent the MN's traffic to COA1 (type 2 routing header) before any BU: its binding
    # is older than the capture, so the row starts at the capture's start (docs/engine.md)
    engine = run(data(0.0, via="route-optimised", src=CN, dst=COA1, rh2=HOA),
                 bu(1.0, seq=1, flags="A", dst=CN, bids=(bid(1, COA1),), frame=2),
                 ba(1.1, seq=1, src=CN, bids=(bid(1),), frame=3), end=2.0)
    assert [(r.coa, r.start, r.pre_existing) for r in engine.bindings()] == [(COA1, 0.0, True)]


def test_bins_widen_again_at_the_first_second_needing_it() -> None:
    # seconds 1 and 4095: width 2 (bins 0..2047); second 4096 is bin 2048, one too many: width 4
    table = TrafficTable()
    key = (0, HA, HOA, COA1, 1, "to-mn", "tunnel")
    for second in (1, 4095):
        table.add(key, 1, 100, float(second), float(second), second)
    assert table.width == 2
    table.add(key, 1, 100, 4096.0, 4096.0, 4096)
    assert table.width == 4


def test_a_bootstrap_accepted_ends_the_entries_the_mobile_node_forgot() -> None:
    # draft §5.10: O-flag BU with a number below the last (10 -> 3): the MN lost its list; when
    # that BU is accepted (frame 4) its old BID 1 entry ends "overwritten" at the BA
    engine = run(bu(0.0, seq=10, bids=(_dbid(1, COA1),), frame=1), ba(0.1, seq=10, bids=(_dbid(1),), frame=2),
                 bu(1.0, seq=3, bids=(_dbid(2, COA2, flags=0x40),), frame=3),
                 ba(1.1, seq=3, dst=COA2, bids=(_dbid(2),), frame=4), end=2.0)
    assert [(r.bid, r.coa, r.end, r.end_frame, r.end_reason) for r in engine.bul()] == [
        (1, COA1, 1.1, 4, "overwritten"), (2, COA2, None, None, None)]


def test_a_deregistration_ends_only_the_bids_whose_own_status_accepts() -> None:
    # BA status 0, but BID 2's option says 133 (I-9: the option's status wins): BID 2 stays
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), frame=1),
                 ba(0.1, seq=1, bids=(bid(1), bid(2)), frame=2),
                 bu(1.0, seq=2, lifetime=0, bids=(bid(1), bid(2)), frame=3),
                 ba(1.1, seq=2, lifetime=0, bids=(bid(1), bid(2, status=133)), frame=4), end=2.0)
    assert [(r.bid, r.end, r.end_reason) for r in engine.bul()] == [(1, 1.1, "deregistered"), (2, None, None)]
