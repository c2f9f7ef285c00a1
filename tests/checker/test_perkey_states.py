"""The history rules that became per-key states in issue 8's sixth round (MCOA414, 5xx, 6xx, 7xx,
10xx; ``checker.perkey``): the streaming checker keeps none of the ``BindingUpdateProcessed`` /
``MessageSeen`` events they read, their states stay O(keys) over refreshes, and what they can only
decide at the end (a later NAT report, the capture's IKE messages) is still decided there. Each
rule's fixture in test_rules.py runs it through ``builders.check`` (streaming beside batch)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from dissector.records import NATDetection, Packet
from mcoaviz.checker import UNANSWERED_MARGIN, Checker, CheckerConfig
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import BU_SIGHTINGS, PerKey
from mcoaviz.checker.registry import BY_CODE
from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine
from tests.checker import builders as b

CODES = ("MCOA414", "MCOA501", "MCOA503", "MCOA504", "MCOA505", "MCOA506", "MCOA507", "MCOA508",
         "MCOA509", "MCOA510", "MCOA511", "MCOA603", "MCOA620", "MCOA621", "MCOA701", "MCOA702", "MCOA707",
         "MCOA709", "MCOA902", "MCOA903", "MCOA1001", "MCOA1002")
NAT = NATDetection(offset=12, f_flag=True, refresh_time=110)
V4COA2 = "192.0.2.9"


def streamed(packets: list[Packet], codes: tuple[str, ...] = CODES) -> tuple[Checker, BindingEngine]:
    engine, checker = BindingEngine(), Checker(CheckerConfig(select=codes), streaming=True)
    for p in packets:
        checker.observe(p, engine.feed(p))
    checker.observe_traffic([], engine.finish(max(p.time for p in packets) + 1))
    return checker, engine


@pytest.mark.parametrize("code", CODES)
def test_the_rule_is_a_per_key_state(code: str) -> None:
    rule = BY_CODE[code]
    assert isinstance(rule.check, PerKey)
    kept = Checker(CheckerConfig(select=(code,)), streaming=True).kept_kinds
    assert all(issubclass(k, (ev.BindingStarted, ev.BindingEnded)) for k in kept), code


def test_the_streaming_checker_keeps_no_outcome_or_sighting_for_these_rules() -> None:
    checker = Checker(CheckerConfig(select=CODES), streaming=True)
    # what is still read of the end context: the binding intervals (MCOA501's, 508's and 1001's
    # held_at, MCOA620's held_before), folded as the binding events come: no event is kept
    assert checker.kept_kinds == frozenset()
    packets = b.number([p for seq in range(1, 4) for p in (b.bu(seq, b.bid(1, b.COA1), at=100.0 * seq),
                                                           b.ba(seq, b.bid(1), at=100.0 * seq + 0.1))])
    streaming, _engine = streamed(packets)
    kept = {type(e) for e in streaming._events}
    assert ev.BindingUpdateProcessed not in kept and ev.MessageSeen not in kept
    assert ev.BindingStarted not in kept
    assert streaming._intervals is not None
    rows = [(k.bid, coa, start) for k, coa, start, _end in streaming._intervals.intervals]
    assert rows == [(1, b.COA1, 100.1)]  # the binding started at the first BA and was refreshed


def _sizes(state: Any) -> dict[str, int]:
    return {name: len(value) for name, value in vars(state).items() if hasattr(value, "__len__")}


def test_states_stay_the_same_size_over_refreshes() -> None:
    # one MN refreshing two bindings at the HA and one at a CN, with RR tests and BRRs answered:
    # every container of every state is as big after 20 rounds as after 2 (O(keys), not O(messages))
    def rounds(n: int) -> list[Packet]:
        out: list[Packet] = []
        for seq in range(1, n + 1):
            out += [b.bu(seq, b.bid(1, b.COA1), b.bid(2, b.COA2)), b.ba(seq, b.bid(1), b.bid(2)),
                    b.coti(b.bid(1)), b.cot(b.bid(1)), b.brr(b.bid(2)),
                    b.bu(seq + 1000, b.bid(2, b.COA2)), b.ba(seq + 1000, b.bid(2)),
                    b.bu(seq, b.bid(1, b.COA1), flags="A", dst=b.CN), b.ba(seq, b.bid(1), src=b.CN)]
        return out

    few, _ = streamed(b.number(rounds(2)))
    many, _ = streamed(b.number(rounds(20)))
    for rule, small, big in zip(few._state_rules, few._states, many._states, strict=True):
        assert _sizes(big) == _sizes(small), rule.code
    states = {r.code: s for r, s in zip(many._state_rules, many._states, strict=True)}
    # not empty: the keys are held (the last BU per (CN, CoA, HoA); one CoA seen for each CN)
    assert _sizes(states["MCOA621"])["last_bu"] == 2 and _sizes(states["MCOA509"])["careof"] == 1


def test_a_nat_reported_later_still_counts_for_an_earlier_bulk_bu() -> None:
    # MCOA702 decides at the end: the BA with NAT Detection for BID 3 comes after the bulk BU that
    # registered BID 3, but after the first NAT report (frame 2) for that HA
    packets = [b.bu(1, b.bid(2, b.V4COA)), b.ba(1, b.bid(2), NAT),
               b.bu(2, b.bid(1, b.COA1), b.bid(3, V4COA2)), b.ba(2, b.bid(1), b.bid(3)),
               b.bu(3, b.bid(3, V4COA2)), b.ba(3, b.bid(3), NAT)]
    found = b.check(*packets)
    assert [(f.rule, f.frame, f.bid) for f in found if f.rule == "MCOA702"] == [("MCOA702", 3, 3)]
    checker, _engine = streamed(b.number(packets), ("MCOA702",))
    (state,) = checker._states
    assert [(m.frame, bid.bid) for m, _pair, bid in state.found] == [(3, 3)]  # type: ignore[attr-defined]
    assert state.natted[(b.HOA, b.HA)][1] == {2, 3}  # type: ignore[attr-defined]


def test_ike_rules_read_the_ike_messages_the_streaming_checker_keeps_for_them() -> None:
    packets = b.number([b.ike(b.IKE_AUTH), *[b.bu(1, b.bid(2, b.COA2), flags="AHK"), b.ba(1, b.bid(2))],
                        b.ike(b.INFORMATIONAL, src=b.COA2), b.ike(b.INFORMATIONAL, src=b.COA3)])
    checker, engine = streamed(packets, ("MCOA1001", "MCOA1002"))
    # the IKE messages only (``PerKey.packets``); the K-flag BU was read as it came
    assert sorted(checker._signalling) == [1, 4, 5]
    assert [(f.rule, f.frame) for f in checker.finish(engine)] == [("MCOA1001", 5)]
    (state, _other) = checker._states
    assert state.moves == {(b.HA, b.COA2): packets[2].time}  # type: ignore[attr-defined]


def test_a_brr_is_answered_by_the_next_bu_to_that_peer_only() -> None:
    # MCOA506: the BRR waits for the next BU from the HoA to the HA; a BU to a CN in between
    # does not answer it, and once answered it is forgotten
    packets = [*[b.bu(1, b.bid(1, b.COA1), b.bid(2, b.COA2)), b.ba(1, b.bid(1), b.bid(2))],
               b.brr(b.bid(2)), b.bu(7, b.bid(1, b.COA1), flags="A", dst=b.CN), b.bu(2, b.bid(1, b.COA1))]
    assert b.hits(b.check(*packets), "MCOA506") == [5]
    checker, _engine = streamed(b.number(packets), ("MCOA506",))
    (state,) = checker._states
    assert state.waiting == {}  # type: ignore[attr-defined]


def test_a_state_is_fed_only_the_sightings_of_its_message_kinds() -> None:
    fed: list[tuple[str, str]] = []

    class Recorder:
        def observe(self, e: Any, reader: object) -> None:
            fed.append((type(e).__name__, getattr(e, "kind", "")))

        def hits(self, ctx: HistoryContext) -> list[Hit]:
            return []

    packets = b.number([b.bu(1, b.bid(1, b.COA1)), b.ba(1, b.bid(1))])
    engine = BindingEngine()
    for p in packets:
        engine.feed(p)
    rule = PerKey(Recorder, ev.BindingUpdateProcessed, ev.MessageSeen, name="recorder", seen=BU_SIGHTINGS)
    assert rule(HistoryContext(engine.events, {p.frame: p for p in packets}, CheckerConfig())) == []
    assert fed == [("MessageSeen", "BU"), ("BindingUpdateProcessed", "")]  # the BA's sighting: not fed
    # the streaming checker's dispatch: a BA sighting reaches none of the BU-only states
    checker, _engine = streamed(packets)
    ba_observers = checker._state_dispatch[(ev.MessageSeen, "BA")]
    only_bu = [s.observe for r, s in zip(checker._state_rules, checker._states, strict=True)
               if r.check.seen == BU_SIGHTINGS]  # type: ignore[attr-defined]
    assert only_bu and not set(ba_observers) & set(only_bu)
    assert set(only_bu) <= set(checker._state_dispatch[(ev.MessageSeen, "BU")])


def test_a_bu_given_up_on_and_applied_on_evidence_is_still_read_when_it_is_applied() -> None:
    # MCOA1001: the K-flag BU to CoA 2 gets no BA; the engine gives up on it (frame 5 passes its
    # timeout), then applies it when the HA tunnels to CoA 2 (frame 7): its K moved the IKE SA,
    # so IKE from CoA 2 is no finding. The streaming checker kept the given-up BU's packet for
    # that (builders.check: streaming finds what the batch finds)
    def tunnelled(coa: str, t: float) -> Packet:
        return b.data(src=b.CN, dst=b.HOA, outer_src=b.HA, outer_dst=coa, tunnel="ip6ip6", at=t)

    packets = [b.ike(b.IKE_AUTH), b.bu(1, b.bid(1, b.COA1), flags="AHK", at=10.0), b.ba(1, b.bid(1), at=10.1),
               b.bu(2, b.bid(2, b.COA2), flags="AHK", at=20.0),
               b.bu(1, b.bid(1, b.COA3), hoa=b.HOA2, src=b.COA3, at=55.0),
               b.ba(1, b.bid(1), hoa=b.HOA2, dst=b.COA3, at=55.1), tunnelled(b.COA2, 60.0),
               b.ike(b.INFORMATIONAL, src=b.COA2)]
    packets[0] = dataclasses.replace(packets[0], time=5.0)
    packets[-1] = dataclasses.replace(packets[-1], time=70.0)
    assert [(f.rule, f.frame) for f in b.check(*packets) if f.rule == "MCOA1001"] == []
    numbered = b.number(packets)
    engine, checker = BindingEngine(), Checker(CheckerConfig(select=("MCOA1001",)), streaming=True)
    for p in numbered[:6]:
        checker.observe(p, engine.feed(p))
    assert list(checker._unanswered) == [4]  # given up on at frame 5, kept while it may be applied
    checker.observe(numbered[6], engine.feed(numbered[6]))
    assert checker._unanswered == {}  # applied: read as it came, then forgotten
    (state,) = checker._states
    assert state.moves == {(b.HA, b.COA1): 10.1, (b.HA, b.COA2): 20.0}  # type: ignore[attr-defined]


def test_a_bu_given_up_on_is_forgotten_once_its_lifetime_and_a_margin_passed() -> None:
    end = 20.0 + 100 + UNANSWERED_MARGIN  # the BU's time + lifetime + the margin
    packets = b.number([b.bu(2, b.bid(2, b.COA2), lifetime=100, at=20.0),
                        *[b.data(src=b.HOA2, dst=b.CN, at=t) for t in (55.0, end, end + 1)]])
    engine, checker = BindingEngine(), Checker(CheckerConfig(select=("MCOA1001",)), streaming=True)
    kept = []
    for p in packets:
        checker.observe(p, engine.feed(p))
        kept.append(sorted(checker._unanswered))
    assert kept == [[], [1], [1], []]
