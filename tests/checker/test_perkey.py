"""History rules that keep their own per-key state (``checker.perkey``): the streaming checker
feeds them the events of their kinds as the engine emits them, so the engine need not keep those
events to the end. ``builders.check`` compares the streaming and batch forms on every rule test,
``test_answers`` on every sample capture; here the mechanism itself."""

from __future__ import annotations

import dataclasses

import pytest

import mcoaviz.checker as checker_package
from mcoaviz.checker import Checker
from mcoaviz.checker.context import CheckerConfig, HistoryContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import STATE, PerKey, StreamReader
from mcoaviz.checker.registry import BY_CODE, HISTORY, RULES, kinds_read
from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine
from tests.checker import builders as b

STATE_RULES = [r for r in RULES if r.unit == STATE]


def test_every_per_key_rule_declares_the_kinds_it_is_fed() -> None:
    assert STATE_RULES, "no rule keeps per-key state"
    for rule in STATE_RULES:
        assert isinstance(rule.check, PerKey), rule.code
        # fed these; ``reads`` adds what ``hits`` reads of the context (e.g. ``held_at``)
        assert rule.reads is not None and set(rule.check.kinds) <= set(rule.reads), rule.code
        assert rule.doc.startswith("What:"), rule.code


def test_the_streaming_checker_feeds_per_key_rules_instead_of_keeping_their_events() -> None:
    batch, streaming = Checker(), Checker(streaming=True)
    codes = {r.code for r in STATE_RULES}
    assert codes <= {r.code for r in batch._history_rules}
    assert {r.code for r in streaming._state_rules} == codes
    assert not codes & {r.code for r in streaming._history_rules}
    # what the streaming checker keeps is what the remaining history rules read, and what the
    # per-key rules read of the context beside the kinds they are fed; binding intervals
    # (INTERVALS) are folded as the binding events come, so those events are not kept for them
    context_kinds = {k for r in streaming._state_rules for k in kinds_read([r], folded=True)
                     if not issubclass(k, r.check.kinds)}
    assert streaming.kept_kinds == kinds_read(streaming._history_rules, folded=True) | context_kinds
    assert streaming._intervals is not None and batch._intervals is None
    # issue 8: no binding event is kept to the end for the selected rules (all of them)
    assert not any(issubclass(k, (ev.BindingStarted, ev.BindingEnded)) for k in streaming.kept_kinds)
    assert {ev.BindingStarted, ev.BindingExpired} <= batch.kept_kinds  # the batch form reads the events


def test_the_batch_form_feeds_the_kinds_in_processing_order() -> None:
    fed: list[tuple[str, int]] = []

    class Recorder:
        def observe(self, e: object, reader: object) -> None:
            fed.append((type(e).__name__, e.frame))  # type: ignore[attr-defined]

        def hits(self, ctx: HistoryContext) -> list[Hit]:
            return []

    packets = b.number([b.bu(1, b.bid(1, b.COA1)), b.ba(1, b.bid(1))])
    engine = BindingEngine()
    for p in packets:
        engine.feed(p)
    rule = PerKey(Recorder, ev.BindingUpdateProcessed, ev.MessageSeen, name="recorder")
    assert rule(HistoryContext(engine.events, {p.frame: p for p in packets}, CheckerConfig())) == []
    assert fed == [("MessageSeen", 1), ("MessageSeen", 2), ("BindingUpdateProcessed", 2)]


def test_a_state_sees_the_bu_after_the_refusal_as_it_arrives() -> None:
    # MCOA309: BA 166 (MCOA PROHIBITED), then a BU with a BID option to the same peer
    packets = b.number([b.bu(1, b.bid(1, b.COA1)), b.ba(1, b.bid(1), status=166),
                        b.bu(2, b.bid(2, b.COA2))])
    engine = BindingEngine()
    checker = Checker(CheckerConfig(select=("MCOA309",)), streaming=True)
    (state,) = checker._states
    checker.observe(packets[0], engine.feed(packets[0]))
    checker.observe(packets[1], engine.feed(packets[1]))
    assert state.since and not state.later  # type: ignore[attr-defined]
    checker.observe(packets[2], engine.feed(packets[2]))
    assert [m.frame for m, _ in state.later] == [3]  # type: ignore[attr-defined]
    assert checker._events == [] and checker.kept_kinds == frozenset()
    assert [(f.rule, f.frame) for f in checker.finish(engine)] == [("MCOA309", 3)]
    assert [(f.rule, f.frame) for f in checker.finish(engine)] == [("MCOA309", 3)]  # asked again


def test_kinds_a_per_key_rule_reads_of_the_context_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # a per-key rule fed the outcomes that also asks ``held_at`` at the end: the binding events stay
    base = BY_CODE["MCOA309"]
    assert Checker(CheckerConfig(select=("MCOA309",)), streaming=True).kept_kinds == frozenset()
    rule = dataclasses.replace(base, reads=base.reads | {ev.BindingStarted})  # type: ignore[operator]
    monkeypatch.setattr(checker_package, "selected_rules",
                        lambda config, kind: (rule,) if kind == HISTORY else ())
    assert Checker(streaming=True).kept_kinds == frozenset({ev.BindingStarted})
    assert Checker(streaming=False).kept_kinds == frozenset({ev.BindingStarted, ev.BindingUpdateProcessed,
                                                             ev.MessageSeen})


def test_the_stream_reader_finds_the_current_pending_and_kept_packets() -> None:
    current, pending, kept = b.number([b.bu(1, b.bid(1, b.COA1)), b.bu(2, b.bid(1, b.COA1)),
                                       b.ba(2, b.bid(1))])
    reader = StreamReader(CheckerConfig(), {}, {pending.frame: pending}, {kept.frame: kept})
    reader.current = current
    assert [reader.packet(f) for f in (1, 2, 3, 4, None)] == [current, pending, kept, None, None]


def test_the_packets_a_per_key_rule_reads_at_the_end_are_kept_for_it() -> None:
    # MCOA419 is fed the outcomes but reads the ND and RA packets of the end context
    # (``PerKey.packets``): alone, the streaming checker keeps those (and home BUs), nothing else
    rule = BY_CODE["MCOA419"]
    assert rule.unit == STATE and rule.check.packets == {"BU-home", "ND", "RA"}  # type: ignore[attr-defined]
    checker = Checker(CheckerConfig(select=("MCOA419",)), streaming=True)
    assert not checker._history_rules and checker._keeper is not None
    assert checker._keeper.needs == {"BU-home", "ND", "RA"}
    packets = b.number([b.ra("2001:db8:1::/64", mac_src=b.ROUTER_MAC), b.bu(1, b.bid(1, b.COA1)),
                        b.nd(136, b.HOA), b.ba(1, b.bid(1))])
    engine = BindingEngine()
    for p in packets:
        checker.observe(p, engine.feed(p))
    assert sorted(checker._signalling) == [1, 3]  # the RA and the NA, not the plain BU or its BA


def test_a_state_judged_after_its_bu_answers_the_same_when_asked_again() -> None:
    # MCOA320 judges a shared CoA once every event of the BU is in: the last BU's is still
    # pending at the end; ``hits`` reports it without settling it, so asking again finds the same
    packets = b.number([b.bu(1, b.bid(1, b.COA1)), b.ba(1, b.bid(1)),
                        b.bu(2, b.bid(2, b.COA1)), b.ba(2, b.bid(2))])
    engine = BindingEngine()
    checker = Checker(CheckerConfig(select=("MCOA320",)), streaming=True)
    (state,) = checker._states
    for p in packets:
        checker.observe(p, engine.feed(p))
    assert [s.frame for s in state.pending] == [4] and state.found == []  # type: ignore[attr-defined]
    first = [(f.rule, f.frame) for f in checker.finish(engine)]
    assert first == [("MCOA320", 4)]
    assert [(f.rule, f.frame) for f in checker.finish(engine)] == first
    assert [s.frame for s in state.pending] == [4]  # type: ignore[attr-defined]


def test_a_state_reading_bu_sightings_is_not_fed_the_others() -> None:
    fed: list[tuple[str, int]] = []

    class Recorder:
        def observe(self, e: object, reader: object) -> None:
            fed.append((type(e).__name__, e.frame))  # type: ignore[attr-defined]

        def hits(self, ctx: HistoryContext) -> list[Hit]:
            return []

    packets = b.number([b.bu(1, b.bid(1, b.COA1)), b.ba(1, b.bid(1))])
    engine = BindingEngine()
    events = [e for p in packets for e in engine.feed(p)]
    rule = PerKey(Recorder, ev.BindingUpdateProcessed, ev.MessageSeen, name="recorder",
                  seen=frozenset({"BU"}))
    rule(HistoryContext(events, {p.frame: p for p in packets}, CheckerConfig()))
    assert fed == [("MessageSeen", 1), ("BindingUpdateProcessed", 2)]  # not the BA's sighting
    sightings = [e for e in events if isinstance(e, ev.MessageSeen)]
    assert [rule.feeds(e) for e in sightings] == [True, False]
    # streaming: sightings are dispatched by message kind; MCOA206 reads only BUs'
    checker = Checker(CheckerConfig(select=("MCOA206",)), streaming=True)
    engine = BindingEngine()
    for p in packets:
        checker.observe(p, engine.feed(p))
    (state,) = checker._states
    assert checker._state_dispatch[(ev.MessageSeen, "BU")] == (state.observe,)
    assert checker._state_dispatch[(ev.MessageSeen, "BA")] == ()
