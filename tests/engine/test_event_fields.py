"""The fields of the engine's events and rows, with values worked out by hand (issue 16: the
mutation benchmark found events whose key, frame or CoA could be dropped unnoticed, because the
fast tests looked only at the binding rows). The checker reads nothing else."""

from __future__ import annotations

from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.engine.keys import BindingKey, BulKey, ExchangeKey
from tests.engine.helpers import CN, COA1, COA2, HA, HOA, ba, bid, bu, data, run

# docs/architecture.md, export contract (keys may be added, never renamed)
BINDING_CONTRACT = {"node", "role", "hoa", "bid", "coa", "start", "end", "end_reason", "home", "lifetime",
                    "confirmed", "pre_existing", "start_frame", "end_frame"}
BUL_CONTRACT = {"hoa", "peer", "peer_role", "bid", "coa", "start", "end", "end_reason", "acknowledged",
                "status", "last_seq", "lifetime"}


def registered() -> BindingEngine:
    """BID 1 at COA1: BU frame 1 (t=0), BA frame 2 (t=0.1), 60 s."""
    return run(bu(0.0, seq=7, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=7, bids=(bid(1),), frame=2),
               end=1.0)


def test_rows_carry_every_contract_key_with_its_value() -> None:
    engine = registered()
    [row] = [r.to_dict() for r in engine.bindings()]
    assert BINDING_CONTRACT <= set(row)
    assert (row["lifetime"], row["start_frame"], row["confirmed"]) == (60, 2, True)
    [entry] = [r.to_dict() for r in engine.bul()]
    assert BUL_CONTRACT <= set(entry)
    assert (entry["lifetime"], entry["last_seq"], entry["acknowledged"], entry["status"]) == (60, 7, True, 0)


def test_message_seen_of_a_ba_names_the_bu_it_answers_and_the_role() -> None:
    [seen] = [e for e in registered().events if isinstance(e, ev.MessageSeen) and e.kind == "BA"]
    assert (seen.key, seen.answers, seen.role, seen.src, seen.dst) == (
        ExchangeKey(HA, HOA, 7), 1, "home-agent", HA, COA1)


def test_sent_bul_entry_carries_the_sequence_number() -> None:
    [sent] = [e for e in registered().events if isinstance(e, ev.BulEntryChanged) and e.change == "sent"]
    assert (sent.key, sent.coa, sent.seq, sent.lifetime, sent.frame) == (BulKey(HOA, HA, 1), COA1, 7, 60, 1)


def test_history_is_every_event_of_one_key_in_order() -> None:
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=1, bids=(bid(1),), frame=2),
                 bu(1.0, seq=2, lifetime=0, bids=(bid(1),), frame=3),
                 ba(1.1, seq=2, lifetime=0, bids=(bid(1),), frame=4), end=2.0)
    history = engine.history(BindingKey(HA, HOA, 1))
    assert [(type(e), e.time, e.frame) for e in history] == [
        (ev.BindingStarted, 0.1, 2), (ev.BindingDeregistered, 1.1, 4)]
    assert history[1].coa == COA1 and history[1].start == 0.1


def test_duplicate_sighting_names_the_exchange_and_the_first_frame() -> None:
    engine = run(bu(0.0, seq=3, bids=(bid(1, COA1),), frame=1, interface=0),
                 bu(0.01, seq=3, bids=(bid(1, COA1),), frame=2, interface=1), end=1.0)
    [dup] = [e for e in engine.events if isinstance(e, ev.DuplicateSighting)]
    assert (dup.key, dup.kind, dup.interface, dup.first_frame) == (ExchangeKey(HA, HOA, 3), "BU", 1, 1)


def test_rejection_names_the_coa_and_the_rejected_bu() -> None:
    engine = run(bu(0.0, seq=1, src=COA2, frame=1), ba(0.1, seq=1, status=129, frame=2), end=1.0)
    [rejected] = [e for e in engine.events if isinstance(e, ev.BindingRejected)]
    assert (rejected.key, rejected.coa, rejected.status, rejected.bu_frame, rejected.frame) == (
        BindingKey(HA, HOA, None), COA2, 129, 1, 2)
    assert engine.bindings() == []


def test_binding_end_event_carries_the_ending_frame() -> None:
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=1, bids=(bid(1),), frame=2),
                 bu(1.0, seq=2, lifetime=0, bids=(bid(1),), frame=3),
                 ba(1.1, seq=2, lifetime=0, bids=(bid(1),), frame=4), end=2.0)
    [ended] = [e for e in engine.events if isinstance(e, ev.BindingDeregistered)]
    assert (ended.frame, ended.time) == (4, 1.1)


def test_unanswered_bus_at_capture_end_come_in_time_order() -> None:
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), bu(0.5, seq=2, bids=(bid(2, COA2),), frame=2),
                 end=5.0)
    unanswered = [(e.frame, e.bids, e.reason, e.decided_at) for e in engine.events
                  if isinstance(e, ev.UnansweredBU)]
    assert unanswered == [(1, (1,), "capture-end", 5.0), (2, (2,), "capture-end", 5.0)]


def test_unanswered_deregistration_is_never_applied_by_later_data() -> None:
    # a de-registration whose BA was lost: data the HA later sends to its source CoA (COA2)
    # cannot show it was "accepted" (it removes bindings, it registers no CoA), so BID 1 stays
    engine = run(bu(0.0, seq=1, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=1, bids=(bid(1),), frame=2),
                 bu(5.0, seq=2, lifetime=0, src=COA2, frame=3),
                 data(40.0, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst=COA2), end=50.0)
    rows = [(r.bid, r.coa, r.start, r.end) for r in engine.bindings()]
    assert rows == [(1, COA1, 0.1, None)]


def test_finish_on_an_empty_engine_sets_the_last_time() -> None:
    engine = BindingEngine()
    assert engine.finish(5.0) == []
    assert engine.last_time == 5.0
