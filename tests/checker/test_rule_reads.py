"""Each history rule declares the engine event kinds it reads (``Rule.reads``): the checker keeps
only their union, and the engine with ``history="read"`` only that (issue 8, memory). A rule that
reads a kind it did not declare is caught here: every history rule runs on the sample captures
in a context that refuses undeclared kinds and must find exactly what it finds with everything."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mcoaviz.checker import Checker
from mcoaviz.checker.context import CheckerConfig, HistoryContext, StrictPackets, UndeclaredRead
from mcoaviz.checker.intervals import BindingIntervals
from mcoaviz.checker.keep import (
    ANSWER_NEEDS,
    MESSAGE_NEEDS,
    STATEFUL_NEEDS,
    kept_frames,
    kinds_of,
    packet_kind,
)
from mcoaviz.checker.registry import BUP, HISTORY, RULES, SEEN, SEEN_KINDS, Rule, kinds_read
from mcoaviz.checker.runner import complete
from mcoaviz.engine import events as ev
from mcoaviz.pipeline import AnalysisOptions, Pipeline, run_pipeline
from mcoaviz.sources import open_capture
from tests.checker import builders as b

# the kinds a declaration may name (checker.keep.packet_kind)
KINDS = {"BU", "BA", "BRR", "CoTI", "CoT", "HoTI", "HoT", "BE", "ND", "RA", "RS", "MPD", "ICMPv6", "IKE"}
SAMPLES = sorted(p for p in (Path(__file__).resolve().parents[2] / "sample-captures").glob("*.pcap*"))
HISTORY_RULES = [r for r in RULES if r.kind == HISTORY]


def finished(path: Path, history: str = "all") -> Pipeline:
    pipeline = Pipeline(AnalysisOptions(history=history), name=str(path))
    with open_capture(path) as capture:
        run_pipeline(pipeline, capture)
    return pipeline


def hits(rule: Rule, ctx: HistoryContext) -> list[str]:
    found = [complete(rule, h, ctx.config) for h in rule.check(ctx)]
    return sorted(f.identifier for f in found if f is not None)


def strict(ctx: HistoryContext, allowed: frozenset[type],
           packets: frozenset[str] | None = None) -> HistoryContext:
    """A fresh context (no shared caches) over the same data that refuses other kinds; with
    ``packets`` (a rule's needs, checker/keep.py) it holds only the signalling packets those keep,
    as the streaming checker does, and refuses packets of kinds they do not name."""
    fields = {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)
              if f.init and not f.name.startswith("_")}
    kinds = kinds_read_of(allowed)
    fields["events"] = [e for e in ctx.events if e.__class__ in kinds
                        # narrowed: only the sightings the engine keeps for the rules (SEEN_KINDS)
                        and (packets is None or not isinstance(e, ev.MessageSeen) or e.kind in SEEN_KINDS)]
    fields["folds"] = ctx.folded  # what the checker folds from every packet, kept or not
    # the binding intervals, folded from every binding event whatever the rule declares (as the
    # streaming checker does): the helpers refuse to answer a rule that did not declare INTERVALS
    fields["intervals"] = BindingIntervals.of(ctx.events)
    if packets is not None:
        kept = kept_frames(packets, ctx.packets, ctx.answered)
        fields["packets"] = StrictPackets(ctx.packets, kept, kinds_of(packets), packet_kind)
    return HistoryContext(**{**fields, "allowed": allowed})


def kinds_read_of(allowed: frozenset[type]) -> frozenset[type]:
    return frozenset(c for c in ev.EVENT_CLASSES if issubclass(c, tuple(allowed))) if allowed else frozenset()


def test_every_history_rule_declares_what_it_reads() -> None:
    assert len(SAMPLES) >= 40
    undeclared = [r.code for r in HISTORY_RULES if r.reads is None]
    assert undeclared == [], "declare reads= in the registry line"
    # nothing declares the kinds only views read: that is what the narrowed history drops
    kept = kinds_read(HISTORY_RULES)
    assert ev.BulEntryChanged not in kept and ev.BindingRefreshed not in kept
    assert ev.BindingExpired in kept  # a declared BindingEnded brings its subclasses


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_rules_find_the_same_with_only_their_declared_kinds(path: Path) -> None:
    pipeline = finished(path)
    assert pipeline.checker is not None
    full = pipeline.checker.history_context(pipeline.engine)
    for rule in HISTORY_RULES:
        assert rule.reads is not None, rule.code
        assert rule.packets is not None, rule.code
        alone = strict(full, rule.reads, rule.packets)
        try:
            narrowed = hits(rule, alone)
        except UndeclaredRead as exc:
            pytest.fail(f"{rule.code} on {path.name}: {exc}")
        assert narrowed == hits(rule, strict(full, frozenset(ev.EVENT_CLASSES))), rule.code


def test_a_rule_reading_an_undeclared_kind_is_caught() -> None:
    def sneaky(ctx: HistoryContext) -> list[object]:
        ctx.of(ev.BindingUpdateProcessed)
        return list(ctx.bu_seen)  # MessageSeen: not declared below

    rule = dataclasses.replace(HISTORY_RULES[0], check=sneaky, reads=BUP)
    ctx = HistoryContext([], {}, CheckerConfig(), allowed=rule.reads)
    with pytest.raises(UndeclaredRead, match="MessageSeen"):
        rule.check(ctx)
    assert rule.check(HistoryContext([], {}, CheckerConfig(), allowed=BUP | SEEN)) == []


def test_a_declared_kind_brings_its_subclasses_only() -> None:
    ctx = HistoryContext([], {}, CheckerConfig(), allowed=frozenset({ev.BindingEnded}))
    assert ctx.of(ev.BindingExpired) == ()
    with pytest.raises(UndeclaredRead):
        ctx.of(ev.BindingStarted)
    narrow = HistoryContext([], {}, CheckerConfig(), allowed=frozenset({ev.BindingExpired}))
    with pytest.raises(UndeclaredRead):
        narrow.of(ev.BindingEnded)


def test_a_history_rule_without_a_declaration_keeps_every_kind() -> None:
    undeclared = dataclasses.replace(HISTORY_RULES[0], reads=None)
    assert kinds_read([undeclared]) == frozenset(ev.EVENT_CLASSES)
    assert kinds_read([dataclasses.replace(undeclared, kind="packet")]) == frozenset()
    assert kinds_read([HISTORY_RULES[0], undeclared]) == frozenset(ev.EVENT_CLASSES)


def test_the_checker_keeps_only_the_selected_rules_kinds() -> None:
    only = Checker(CheckerConfig(select=("MCOA903",)))
    assert only.kept_kinds == frozenset({ev.UnansweredBU})
    everything = Checker()
    assert everything.kept_kinds == kinds_read(HISTORY_RULES)


def test_every_history_rule_declares_the_packets_it_reads() -> None:
    undeclared = [r.code for r in HISTORY_RULES if r.packets is None]
    assert undeclared == [], "declare packets= in the registry line"
    known = set(MESSAGE_NEEDS) | set(ANSWER_NEEDS) | set(STATEFUL_NEEDS) | KINDS
    for rule in HISTORY_RULES:
        assert rule.packets is not None and rule.packets <= known, (rule.code, rule.packets - known)


def test_a_rule_reading_an_undeclared_packet_kind_is_caught() -> None:
    packets = {1: b.number([b.bu(1, b.bid(1, b.COA1))])[0]}
    ctx = HistoryContext([], StrictPackets(packets, frozenset(), kinds_of({"BA-rejecting"}), packet_kind),
                         CheckerConfig())
    with pytest.raises(UndeclaredRead, match="a BU"):
        ctx.packet(1)
    narrowed = HistoryContext([], StrictPackets(packets, frozenset(), kinds_of({"BU-home"}), packet_kind),
                              CheckerConfig())
    assert narrowed.packet(1) is None  # a BU its needs do not keep: missing, as when streaming
    assert list(narrowed.packets) == []
