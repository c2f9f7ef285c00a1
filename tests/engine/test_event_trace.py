"""Whole event traces of small exchanges, every field written out by hand (issue 16, point 3).

The checker, the views and the export read these events field by field (frames for "frame N"
links, CoAs and statuses for the finding texts, BUL ``coa``/``seq`` for the MN's side), so a
test that compares whole events catches a dropped frame or CoA wherever it happens. Each value
below follows from the fixture: frame n is the n-th packet, a BA's events carry its time and
frame (events.py), an expiry is the last acceptance + granted lifetime, a BID's effective
status is its option's Status if non-zero, else the BA's (I-9). Each binding event's ``why``
(the section and interpretation applied, for ``mcoaviz explain``) is prose tested in
tests/mcoaviz/query/test_explain.py and tests/engine/test_first_registration.py; here it is
blanked so the traces compare the facts.
"""

from __future__ import annotations

import dataclasses

from dissector.codepoints import Dialect
from dissector.records import (
    BindingIdentifier,
    BindingRefreshRequest,
    CareOfTest,
    CareOfTestInit,
    MobilityMessage,
    MobilityOption,
    Packet,
    PacketPath,
)
from mcoaviz.engine import events as ev
from mcoaviz.engine.attribution import Attribution
from mcoaviz.engine.engine import BindingEngine, binding_keys
from mcoaviz.engine.events import BidResult
from mcoaviz.engine.events import TestKey as CoTestKey
from mcoaviz.engine.keys import BindingKey, BulKey, ExchangeKey, PeerKey
from mcoaviz.engine.states import BindingState
from mcoaviz.engine.traffic import TrafficTable
from tests.engine.helpers import CN, COA1, COA2, COA3, HA, HOA, ba, bid, bu, count, data, mnp, run

K1, K2 = BindingKey(HA, HOA, 1), BindingKey(HA, HOA, 2)


def _facts(engine: BindingEngine) -> list[object]:
    """The engine's events with each ``why`` blanked (see the module docstring)."""
    return [dataclasses.replace(e, why="") if getattr(e, "why", "") else e  # type: ignore[type-var]
            for e in engine.events]
B1, B2 = BulKey(HOA, HA, 1), BulKey(HOA, HA, 2)


def _processed(t: float, frame: int, seq: int, bu_frame: int, bu_time: float, *, requested: int,
               granted: int | None, status: int | None, results: tuple[BidResult, ...],
               bulk: bool = False, regular: bool = False, ba_frame: int | None = None,
               ack: bool = True, confirmed: bool = True, interpretations: tuple[str, ...] = ()
               ) -> ev.BindingUpdateProcessed:
    return ev.BindingUpdateProcessed(
        time=t, frame=frame, key=ExchangeKey(HA, HOA, seq), role="home-agent", bu_frame=bu_frame,
        bu_time=bu_time, ba_frame=frame if ba_frame is None and ack else ba_frame,
        requested_lifetime=requested, granted_lifetime=granted, ba_status=status, ack_requested=ack,
        regular=regular, bulk=bulk, overwrite=False, deregistration=requested == 0,
        legacy_receiver=False, confirmed=confirmed, results=results, dialect="rfc5648",
        interpretations=interpretations)


def _bu_seen(t: float, frame: int, seq: int, bids: tuple[int, ...], src: str = COA1) -> ev.MessageSeen:
    return ev.MessageSeen(t, frame, ExchangeKey(HA, HOA, seq), "BU", 0, src, HA, HOA, HA, seq, bids,
                          role="home-agent")


def _ba_seen(t: float, frame: int, seq: int, bids: tuple[int, ...], answers: int,
             dst: str = COA1) -> ev.MessageSeen:
    return ev.MessageSeen(t, frame, ExchangeKey(HA, HOA, seq), "BA", 0, HA, dst, HOA, HA, seq, bids,
                          answers=answers, role="home-agent")


def test_bulk_registration_refresh_new_coa_and_deregistration_event_by_event() -> None:
    # RFC 5648 HA; BID 1 accepted (status 0), BID 2 refused with 130 in its own option (§5.7);
    # BID 1 refreshed, moved to COA2 (§6.2: "replaced"), then de-registered (lifetime 0, §6.2)
    engine = run(
        bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), frame=1),
        ba(0.1, seq=1, bids=(bid(1), bid(2, status=130)), frame=2),
        bu(10.0, seq=2, bids=(bid(1, COA1),), frame=3),
        ba(10.1, seq=2, bids=(bid(1),), frame=4),
        bu(20.0, seq=3, bids=(bid(1, COA2),), frame=5),
        ba(20.1, seq=3, bids=(bid(1),), frame=6),
        bu(30.0, seq=4, lifetime=0, bids=(bid(1),), frame=7),
        ba(30.1, seq=4, lifetime=0, bids=(bid(1),), frame=8),
        end=200.0)  # past every expiry: an ended entry must not expire again
    assert _facts(engine) == [
        _bu_seen(0.0, 1, 1, (1, 2)),
        ev.BulEntryChanged(0.0, 1, B1, "sent", COA1, 1, 60),
        ev.BulEntryChanged(0.0, 1, B2, "sent", COA2, 1, 60),
        _ba_seen(0.1, 2, 1, (1, 2), answers=1),
        _processed(0.1, 2, 1, 1, 0.0, requested=60, granted=60, status=0, bulk=True, results=(
            BidResult(1, COA1, None, 0, True, "started"), BidResult(2, COA2, None, 130, False, "rejected"))),
        ev.BindingStarted(0.1, 2, K1, "home-agent", COA1, 60, 60.1, False, True, False),
        ev.BindingRejected(0.1, 2, K2, COA2, 130, 1),
        ev.BulEntryChanged(0.1, 2, B1, "acknowledged", COA1, 1, 60, 0),
        ev.BulEntryChanged(0.1, 2, B2, "rejected", COA2, 1, 60, 130, "rejected"),
        # refresh: same CoA, the MN's entry keeps its CoA and takes the new sequence number
        _bu_seen(10.0, 3, 2, (1,)),
        ev.BulEntryChanged(10.0, 3, B1, "refreshed", COA1, 2, 60),
        _ba_seen(10.1, 4, 2, (1,), answers=3),
        _processed(10.1, 4, 2, 3, 10.0, requested=60, granted=60, status=0,
                   results=(BidResult(1, COA1, None, 0, True, "refreshed"),)),
        ev.BindingRefreshed(10.1, 4, K1, COA1, 60, 70.1, True),
        ev.BulEntryChanged(10.1, 4, B1, "acknowledged", COA1, 2, 60, 0),
        # new CoA: a new BUL row, pending until the BA; the old one ends at the BA
        _bu_seen(20.0, 5, 3, (1,)),
        ev.BulEntryChanged(20.0, 5, B1, "sent", COA2, 3, 60),
        _ba_seen(20.1, 6, 3, (1,), answers=5),
        _processed(20.1, 6, 3, 5, 20.0, requested=60, granted=60, status=0,
                   results=(BidResult(1, COA2, None, 0, True, "replaced"),)),
        ev.BindingReplaced(20.1, 6, K1, COA1, 0.1),
        ev.BindingStarted(20.1, 6, K1, "home-agent", COA2, 60, 80.1, False, True, False),
        ev.BulEntryChanged(20.1, 6, B1, "ended", COA1, 2, 60, 0, "replaced"),
        ev.BulEntryChanged(20.1, 6, B1, "acknowledged", COA2, 3, 60, 0),
        # de-registration: Length 4 names the BID, the CoA is the one registered (I-6)
        _bu_seen(30.0, 7, 4, (1,)),
        ev.BulEntryChanged(30.0, 7, B1, "refreshed", COA2, 4, 0),
        _ba_seen(30.1, 8, 4, (1,), answers=7),
        _processed(30.1, 8, 4, 7, 30.0, requested=0, granted=0, status=0,
                   results=(BidResult(1, COA2, None, 0, True, "deregistered"),)),
        ev.BindingDeregistered(30.1, 8, K1, COA2, 20.1),
        ev.BulEntryChanged(30.1, 8, B1, "ended", COA2, 4, 60, 0, "deregistered"),
    ]
    assert [r.to_dict() for r in engine.bul()] == [
        {"hoa": HOA, "peer": HA, "peer_role": "home-agent", "bid": 1, "coa": COA1, "start": 0.0,
         "end": 20.1, "end_reason": "replaced", "acknowledged": True, "status": 0, "last_seq": 2,
         "lifetime": 60, "home": False, "start_frame": 1, "end_frame": 6},
        {"hoa": HOA, "peer": HA, "peer_role": "home-agent", "bid": 2, "coa": COA2, "start": 0.0,
         "end": 0.1, "end_reason": "rejected", "acknowledged": True, "status": 130, "last_seq": 1,
         "lifetime": 60, "home": False, "start_frame": 1, "end_frame": 2},
        {"hoa": HOA, "peer": HA, "peer_role": "home-agent", "bid": 1, "coa": COA2, "start": 20.0,
         "end": 30.1, "end_reason": "deregistered", "acknowledged": True, "status": 0, "last_seq": 4,
         "lifetime": 60, "home": False, "start_frame": 5, "end_frame": 8},
    ]


def test_a_new_sequence_number_for_a_pending_coa_refreshes_the_pending_entry() -> None:
    # BU seq 1 (BID 1 -> COA1) gets no BA; BU seq 2 for the same BID and CoA supersedes it: the
    # MN's list still has one entry for COA1, now at sequence 2, changed by frame 2
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), bu(1.0, seq=2, bids=(bid(1, COA1),), frame=2),
                 ba(1.1, seq=2, bids=(bid(1),), frame=3), end=5.0)
    changes = [e for e in _facts(engine) if isinstance(e, ev.BulEntryChanged)]
    assert changes == [ev.BulEntryChanged(0.0, 1, B1, "sent", COA1, 1, 60),
                       ev.BulEntryChanged(1.0, 2, B1, "refreshed", COA1, 2, 60),
                       ev.BulEntryChanged(1.1, 3, B1, "acknowledged", COA1, 2, 60, 0)]
    assert [e for e in _facts(engine) if isinstance(e, ev.UnansweredBU)] == [
        ev.UnansweredBU(0.0, 1, ExchangeKey(HA, HOA, 1), (1,), 60, "superseded", 1.0)]


def test_a_bid_bu_supersedes_a_pending_regular_bu() -> None:
    # a regular BU covers every binding of the HoA (§6.3), so a BID BU overlaps it
    engine = run(bu(0.0, seq=1, frame=1), bu(1.0, seq=2, bids=(bid(1, COA1),), frame=2), end=2.0)
    assert [(e.frame, e.reason, e.decided_at) for e in _facts(engine) if isinstance(e, ev.UnansweredBU)] == [
        (1, "superseded", 1.0), (2, "capture-end", 2.0)]


def test_a_rejected_regular_bu_and_its_events() -> None:
    engine = run(bu(0.0, seq=1, frame=1), ba(0.1, seq=1, status=129, frame=2), end=1.0)
    [processed] = [e for e in _facts(engine) if isinstance(e, ev.BindingUpdateProcessed)]
    assert processed.results == (BidResult(None, COA1, None, 129, False, "rejected"),)
    assert [e for e in _facts(engine) if isinstance(e, ev.BindingRejected)] == [
        ev.BindingRejected(0.1, 2, BindingKey(HA, HOA, None), COA1, 129, 1)]


def test_a_refused_regular_bu_leaves_the_bid_entries_of_the_list() -> None:
    # only an accepted regular BU replaces the MN's BID entries (§6.3); a refused one changes nothing
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=1, bids=(bid(1),), frame=2),
                 bu(1.0, seq=2, frame=3), ba(1.1, seq=2, status=129, frame=4), end=2.0)
    assert [(r.bid, r.coa, r.end, r.end_reason) for r in engine.bul()] == [
        (1, COA1, None, None), (None, COA1, 1.1, "rejected")]


def test_an_accepted_regular_bu_overwrites_the_bid_bindings_at_its_ba() -> None:
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=1, bids=(bid(1),), frame=2),
                 bu(1.0, seq=2, src=COA2, frame=3), ba(1.1, seq=2, dst=COA2, frame=4), end=2.0)
    assert [e for e in _facts(engine) if isinstance(e, ev.BindingEnded)] == [
        ev.BindingOverwritten(1.1, 4, K1, COA1, 0.1)]
    assert [e for e in _facts(engine) if isinstance(e, ev.BulEntryChanged) and e.change == "ended"] == [
        ev.BulEntryChanged(1.1, 4, B1, "ended", COA1, 1, 60, 0, "overwritten")]


def test_a_bu_without_a_flag_has_no_ba_frame() -> None:
    # it takes effect when sent: time and frame are the BU's, and no BA exists (events.py)
    engine = run(bu(0.0, seq=1, flags="H", bids=(bid(1, COA1),), frame=1), end=1.0)
    [processed] = [e for e in _facts(engine) if isinstance(e, ev.BindingUpdateProcessed)]
    assert processed == _processed(0.0, 1, 1, 1, 0.0, requested=60, granted=None, status=None, ack=False,
                                   results=(BidResult(1, COA1, None, None, True, "started"),))


def test_deregistering_two_bids_ends_both() -> None:
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), frame=1),
                 ba(0.1, seq=1, bids=(bid(1), bid(2)), frame=2),
                 bu(1.0, seq=2, lifetime=0, bids=(bid(1), bid(2)), frame=3),
                 ba(1.1, seq=2, lifetime=0, bids=(bid(1), bid(2)), frame=4), end=2.0)
    assert [e for e in _facts(engine) if isinstance(e, ev.BindingEnded)] == [
        ev.BindingDeregistered(1.1, 4, K1, COA1, 0.1), ev.BindingDeregistered(1.1, 4, K2, COA2, 0.1)]


def test_deregistering_an_unknown_bid_keeps_the_regular_binding() -> None:
    # a lifetime-0 BID BU removes that BID only; the regular binding is not overwritten
    engine = run(bu(0.0, seq=1, frame=1), ba(0.1, seq=1, frame=2),
                 bu(1.0, seq=2, lifetime=0, bids=(bid(1),), frame=3),
                 ba(1.1, seq=2, lifetime=0, bids=(bid(1),), frame=4), end=2.0)
    assert [(r.bid, r.coa, r.end) for r in engine.bindings()] == [(None, COA1, None)]
    [processed] = [e for e in _facts(engine) if isinstance(e, ev.BindingUpdateProcessed) and e.frame == 4]
    assert processed.results == (BidResult(1, None, None, 0, True, "unknown-bid"),)
    assert processed.interpretations == ("I-11",)


def test_rfc_165_refuses_every_bid_and_keeps_the_bindings() -> None:
    # RFC 5648: status 165 in the BA means nothing was processed (I-8); each BID names its key
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), frame=1),
                 ba(0.1, seq=1, status=165, frame=2), end=1.0)
    assert [e for e in _facts(engine) if isinstance(e, ev.BindingRejected)] == [
        ev.BindingRejected(0.1, 2, K1, COA1, 165, 1), ev.BindingRejected(0.1, 2, K2, COA2, 165, 1)]


def test_a_refresh_from_a_length_4_bid_keeps_the_registered_coa_in_the_list() -> None:
    # RFC §5.1: a BID option without CoA refreshes the BID's binding; the MN's list entry keeps
    # COA2 even though the BU comes from COA1
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA2),), frame=1), ba(0.1, seq=1, bids=(bid(1),), frame=2),
                 bu(1.0, seq=2, bids=(bid(1),), frame=3), end=1.5)
    changes = [e for e in _facts(engine) if isinstance(e, ev.BulEntryChanged) and e.frame == 3]
    assert changes == [ev.BulEntryChanged(1.0, 3, B1, "refreshed", COA2, 2, 60)]


def test_a_ba_timeout_seen_from_the_fast_path_is_decided_there() -> None:
    # MAX_BINDACK_TIMEOUT (32 s): data counted at t=40 shows the BU of t=0 went unanswered
    engine = BindingEngine()
    engine.feed(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1))
    out = engine.feed_traffic([count(40.0, via="plain", packets=1, nbytes=100, src=HOA, dst=HA)])
    assert out == [ev.UnansweredBU(0.0, 1, ExchangeKey(HA, HOA, 1), (1,), 60, "timeout", 32.0)]


def test_lifetime_one_is_a_home_registration_in_rfc5648() -> None:
    # RFC §5.6.3: H set, CoA field = HoA and a lifetime "greater than zero"
    engine = run(bu(0.0, seq=1, lifetime=1, bids=(bid(1, HOA, flags=0x80),), frame=1),
                 ba(0.1, seq=1, lifetime=1, bids=(bid(1),), frame=2), end=0.5)
    [processed] = [e for e in _facts(engine) if isinstance(e, ev.BindingUpdateProcessed)]
    assert processed.results == (BidResult(1, HOA, None, 0, True, "home", home=True),)
    assert [e for e in _facts(engine) if isinstance(e, ev.HomeNdOwner)] == [
        ev.HomeNdOwner(0.1, 2, K1, "mobile-node", 0)]


def test_returnhome_in_the_bid_option_gives_nd_to_the_home_agent() -> None:
    # I-18: RETURNHOME WO/NDP (5) in the BID option's Status (BA Status 0) counts
    engine = run(bu(0.0, seq=1, bids=(bid(1, HOA, flags=0x80),), frame=1),
                 ba(0.1, seq=1, bids=(bid(1, status=5),), frame=2), end=0.5)
    assert [e for e in _facts(engine) if isinstance(e, ev.HomeNdOwner)] == [
        ev.HomeNdOwner(0.1, 2, K1, "home-agent", 5)]


# ---------------------------------------------------------------- queries the views use
def test_snapshot_groups_the_open_bindings_by_node() -> None:
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=1, bids=(bid(1),), frame=2),
                 bu(1.0, seq=1, flags="A", dst=CN, bids=(bid(1, COA2),), frame=3),
                 ba(1.1, seq=1, src=CN, dst=COA2, bids=(bid(1),), frame=4), end=2.0)
    caches = engine.state_at(1.5).caches()
    assert {node: [(r["bid"], r["coa"]) for r in rows] for node, rows in caches.items()} == {
        HA: [(1, COA1)], CN: [(1, COA2)]}
    assert engine.state_at(0.5).caches() == {HA: [engine.bindings()[0].to_dict()]}


def test_binding_keys_are_the_held_keys_in_key_order() -> None:
    engine = run(bu(0.0, seq=1, bids=(bid(2, COA2), bid(1, COA1)), frame=1),
                 ba(0.1, seq=1, bids=(bid(2), bid(1)), frame=2), end=1.0)
    assert binding_keys(engine) == [K1, K2]
    engine.finish(100.0)  # both expired at 60.1
    assert binding_keys(engine) == []


def test_attribute_locates_and_binds_one_addressing() -> None:
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=1, bids=(bid(1),), frame=2),
                 end=1.0)
    attribute = engine.attributor.attribute
    assert attribute("tunnel", HA, COA1, CN, HOA, None, None) == Attribution(
        HA, HOA, COA1, 1, "to-mn", True, True)
    assert attribute("tunnel", COA2, HA, HOA, CN, None, None) == Attribution(
        HA, HOA, COA2, None, "from-mn", False, True)
    assert attribute("tunnel", CN, COA1, CN, HOA, None, None) is None  # CN is no home agent


def test_data_outside_a_mobile_network_prefix_is_not_the_routers() -> None:
    # NEMO (RFC 3963): only addresses inside the registered prefix belong to the mobile router
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), options=(mnp("2001:db8:99::"),), frame=1),
                 ba(0.1, seq=1, bids=(bid(1),), frame=2),
                 data(1.0, via="tunnel", src=CN, dst="2001:db8:77::5", outer_src=HA, outer_dst=COA1),
                 end=2.0)
    assert engine.traffic() == []
    assert engine.traffic_table.unattributed_packets == 1


def test_bins_widen_while_the_span_needs_more_than_2048_of_them() -> None:
    # seconds 1 and 4096: width 2 gives bins 0..2048 = 2049 bins, one too many; width 4 gives 1025
    table = TrafficTable()
    key = (0, HA, HOA, COA1, 1, "to-mn", "tunnel")
    table.add(key, 1, 100, 1.0, 1.0, 1)
    table.add(key, 1, 100, 4096.0, 4096.0, 4096)
    assert table.width == 4
    assert table.bins[key] == {0: [1, 100], 4096: [1, 100]}


# ---------------------------------------------------------------- draft-05
def _dbid(value: int, coa: str | None = None, flags: int = 0) -> BindingIdentifier:
    return bid(value, coa, flags=flags, dialect=Dialect.DRAFT05)


DRAFT_H, DRAFT_O = 0x20, 0x40  # draft §4.2.1 BID flags


def test_i7_note_names_the_interpretation_at_the_ba() -> None:
    engine = run(bu(0.0, seq=1, frame=1), ba(0.1, seq=1, frame=2),
                 bu(1.0, seq=2, lifetime=40, bids=(_dbid(1, COA2),), frame=3),
                 ba(1.1, seq=2, status=165, lifetime=0, bids=(_dbid(1),), frame=4), end=2.0)
    [note] = [e for e in _facts(engine) if isinstance(e, ev.DialectNote)]
    assert (note.time, note.frame, note.key, note.interpretation) == (1.1, 4, ExchangeKey(HA, HOA, 2), "I-7")
    assert "unconfirmed" in note.note  # what the views print next to the installed binding


def test_draft_return_home_deregisters_one_bid_and_makes_the_other_the_home_binding() -> None:
    # draft §5.6.3: back home (BU from the HoA, lifetime 0), H in BID 1's option makes the home
    # binding (I-13, no expiry); BID 2 without H is de-registered. C=0: the CoA is the source (I-5)
    engine = run(bu(0.0, seq=1, bids=(_dbid(1, COA1), _dbid(2, COA2)), frame=1),
                 ba(0.1, seq=1, bids=(_dbid(1), _dbid(2)), frame=2),
                 bu(5.0, seq=2, lifetime=0, src=HOA, bids=(_dbid(2), _dbid(1, flags=DRAFT_H)), frame=3),
                 ba(5.1, seq=2, lifetime=0, dst=HOA, bids=(_dbid(2), _dbid(1)), frame=4), end=6.0)
    after = [e for e in _facts(engine)
             if e.frame == 4 and not isinstance(e, (ev.MessageSeen, ev.BulEntryChanged))]
    processed = after.pop(0)
    assert isinstance(processed, ev.BindingUpdateProcessed)
    assert processed.results == (BidResult(2, HOA, None, 0, True, "deregistered"),
                                 BidResult(1, HOA, None, 0, True, "replaced", home=True))
    assert processed.interpretations == ("I-13",)
    assert after == [ev.BindingDeregistered(5.1, 4, K2, COA2, 0.1),
                     ev.BindingReplaced(5.1, 4, K1, COA1, 0.1),
                     ev.BindingStarted(5.1, 4, K1, "home-agent", HOA, None, None, True, True, False),
                     ev.HomeNdOwner(5.1, 4, K1, "mobile-node", 0)]


def test_a_bootstrap_note_names_both_sequence_numbers_and_the_section() -> None:
    # draft §5.10: an O-flag BU whose number went backwards: the MN lost its list
    engine = run(bu(0.0, seq=10, bids=(_dbid(1, COA1),), frame=1), ba(0.1, seq=10, bids=(_dbid(1),), frame=2),
                 bu(1.0, seq=3, bids=(_dbid(1, COA1, flags=DRAFT_O),), frame=3), end=2.0)
    [note] = [e for e in _facts(engine) if isinstance(e, ev.DialectNote)]
    assert (note.time, note.frame, note.key, note.interpretation) == (
        1.0, 3, ExchangeKey(HA, HOA, 3), "bootstrap")
    assert "sequence 3 after 10" in note.note and "draft §5.10" in note.note


def test_a_draft_bulk_bu_to_a_cn_reuses_the_coa_of_its_own_entry() -> None:
    # draft §3: a BU to a CN carries no CoA field; in a bulk BU each BID keeps the CoA the MN's
    # list has for it at that CN (COA2), not the one at the HA (COA1) nor the source (COA1)
    engine = run(bu(0.0, seq=1, bids=(_dbid(1, COA1),), frame=1), ba(0.1, seq=1, bids=(_dbid(1),), frame=2),
                 bu(1.0, seq=1, flags="A", src=COA2, dst=CN, bids=(_dbid(1),), frame=3),
                 ba(1.1, seq=1, src=CN, dst=COA2, bids=(_dbid(1),), frame=4),
                 bu(2.0, seq=2, flags="A", src=COA3, dst=CN, bids=(_dbid(1), _dbid(2)), frame=5), end=3.0)
    changes = [(e.key.bid, e.change, e.coa) for e in _facts(engine)
               if isinstance(e, ev.BulEntryChanged) and e.frame == 5]
    assert changes == [(1, "refreshed", COA2), (2, "sent", COA3)]


# ---------------------------------------------------------------- other messages
def _mh(type_name: str, mh_type: int, body: object, *, src: str, dst: str, frame: int, t: float,
        options: tuple[MobilityOption, ...] = (), rh2: str | None = None) -> Packet:
    message = MobilityMessage(offset=54, mh_type=mh_type, type_name=type_name, payload_proto=59,
                              header_len=16, checksum=frame, checksum_ok=True, body=body,  # type: ignore[arg-type]
                              options=options)
    path = PacketPath(src=src, dst=dst, routing_type2=rh2, protocol=135)
    return Packet(frame=frame, time=t, interface=0, wire_length=90, path=path, mobility=message)


def test_care_of_test_init_and_answer() -> None:
    test = CoTestKey(COA1, CN)
    engine = run(_mh("CoTI", 2, CareOfTestInit(b"c" * 8), src=COA1, dst=CN, frame=1, t=0.0,
                     options=(bid(4, status=0, flags=0x80),)),
                 _mh("CoT", 4, CareOfTest(1, b"c" * 8, b"k" * 8), src=CN, dst=COA1, frame=2, t=0.1), end=1.0)
    assert _facts(engine) == [
        ev.MessageSeen(0.0, 1, test, "CoTI", 0, COA1, CN, None, CN, None, (4,)),
        ev.CareOfTestSeen(0.0, 1, test, "CoTI", ((4, 0, ("H",)),)),
        ev.MessageSeen(0.1, 2, test, "CoT", 0, CN, COA1, None, CN, None, ()),
        ev.CareOfTestSeen(0.1, 2, test, "CoT", (), answers=1),
    ]


def test_binding_refresh_request_with_a_bid() -> None:
    peer = PeerKey(HOA, HA)
    engine = run(_mh("BRR", 0, BindingRefreshRequest(), src=HA, dst=COA1, rh2=HOA, frame=1, t=0.0,
                     options=(bid(1),)), end=1.0)
    assert _facts(engine) == [ev.MessageSeen(0.0, 1, peer, "BRR", 0, HA, COA1, HOA, HA, None, (1,)),
                             ev.BrrSeen(0.0, 1, peer, (1,))]


def test_a_home_binding_refreshed_stays_a_home_binding() -> None:
    # RFC §5.6.3: the same home registration again (seq 2) refreshes the CoA = HoA binding
    engine = run(bu(0.0, seq=1, bids=(bid(1, HOA, flags=0x80),), frame=1),
                 ba(0.1, seq=1, bids=(bid(1),), frame=2),
                 bu(10.0, seq=2, bids=(bid(1, HOA, flags=0x80),), frame=3),
                 ba(10.1, seq=2, bids=(bid(1),), frame=4), end=11.0)
    [processed] = [e for e in _facts(engine) if isinstance(e, ev.BindingUpdateProcessed) and e.frame == 4]
    assert processed.results == (BidResult(1, HOA, None, 0, True, "refreshed", home=True),)
    assert [e for e in _facts(engine) if isinstance(e, ev.BindingRefreshed)] == [
        ev.BindingRefreshed(10.1, 4, K1, HOA, 60, 70.1, True)]
    [row] = engine.bindings()
    assert (row.home, row.state, row.expires) == (True, BindingState.HOME, 70.1)
