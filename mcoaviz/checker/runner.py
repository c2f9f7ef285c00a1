"""Runs the selected rules and turns their hits into findings (sorted, de-duplicated)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from dissector.codepoints import Dialect
from mcoaviz.checker.context import CheckerConfig, HistoryContext, PacketContext
from mcoaviz.checker.finding import Finding, Hit
from mcoaviz.checker.registry import HISTORY, PACKET, RULES, Rule


def selected_rules(config: CheckerConfig, kind: str) -> tuple[Rule, ...]:
    return tuple(r for r in RULES if r.kind == kind and config.selected(r.code))


def complete(rule: Rule, hit: Hit, config: CheckerConfig, fallback: Dialect | None = None) -> Finding | None:
    """A hit plus its rule's registry line; None when the rule does not apply to the dialect.
    A hit without a dialect of its own takes ``fallback`` (its frame's pair), else the capture's."""
    dialect = (hit.dialect or fallback or config.dialect).value
    if dialect not in rule.dialects:
        return None
    # RFC-only rules have no draft section: fall back to the RFC's so `section` is never "-"
    section = rule.section if rule.section != "-" else (rule.rfc_section or "-")
    identifier = f"{rule.code}|{hit.frame}|{hit.hoa}|{hit.bid}|{hit.key}"
    return Finding(
        rule=rule.code,
        name=rule.name,
        severity=rule.severity_for(dialect),
        section=section,
        rfc_section=rule.rfc_section if rule.rfc_section != "-" else None,
        frame=hit.frame,
        time=hit.time,
        message=hit.message,
        hoa=hit.hoa,
        bid=hit.bid,
        identifier=identifier,
        episode=hit.episode,
        count=hit.count,
        last_frame=hit.last_frame if hit.count > 1 else None,
        last_time=hit.last_time if hit.count > 1 else None,
    )


class PacketRuleIndex:
    """The selected packet rules by Mobility Header type (``Rule.messages``) and dialect, in
    catalogue order: a BA meets the handful of rules about BAs, not all of them, and an RFC 5648
    message not the draft-only ones. The findings are the same: a rule returns nothing for a
    type outside its ``messages``, and ``complete`` drops every hit of a rule in a dialect the
    rule does not apply to (a packet rule's hit has its BID option's dialect, else the pair's)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._by_type: dict[tuple[str | None, str | None], tuple[Rule, ...]] = {}

    def __bool__(self) -> bool:
        return bool(self.rules)

    def for_message(self, type_name: str | None, dialect: str | None = None) -> tuple[Rule, ...]:
        """The rules that can report on a message of this type (None: not a Mobility Header)
        whose hits all have ``dialect`` (None: they may have either)."""
        found = self._by_type.get((type_name, dialect))
        if found is None:
            found = self._by_type[(type_name, dialect)] = tuple(
                r for r in self.rules
                if (r.messages is None or type_name in (r.messages or ()))
                and (dialect is None or dialect in r.dialects))
        return found

    def for_packet(self, ctx: PacketContext) -> tuple[Rule, ...]:
        """``for_message`` for a packet: its hits have one dialect when every BID option is in
        the dialect a hit without a BID option takes (the pair's, else the capture's)."""
        mh = ctx.packet.mobility
        if mh is None:
            return self.for_message(None, None)
        fallback = ctx.pair_dialect or ctx.config.dialect
        uniform = all(b.dialect is fallback for b in mh.bids)
        return self.for_message(mh.type_name, fallback.value if uniform else None)


def run_packet_rules(rules: Sequence[Rule], ctx: PacketContext) -> Iterable[Finding]:
    for rule in rules:
        hits = rule.check(ctx)
        if not hits:  # nearly every rule on nearly every message: no iterator made
            continue
        for hit in hits:
            finding = complete(rule, hit, ctx.config, ctx.pair_dialect)
            if finding is not None:
                yield finding


def run_history_rules(rules: Sequence[Rule], ctx: HistoryContext) -> Iterable[Finding]:
    for rule in rules:
        for hit in rule.check(ctx):
            fallback = ctx.frame_dialects.get(hit.frame) if hit.frame is not None else None
            finding = complete(rule, hit, ctx.config, fallback)
            if finding is not None:
                yield finding


EPISODE_GAP = 60.0  # seconds: hits of one episode further apart than this start a new finding


def finalise(findings: Iterable[Finding]) -> list[Finding]:
    """De-duplicate by identifier (first wins), merge episodes, sort by frame, then severity."""
    unique: dict[str, Finding] = {}
    for f in findings:
        unique.setdefault(f.identifier, f)
    return sorted(merge_episodes(unique.values()), key=Finding.sort_key)


def merge_episodes(findings: Iterable[Finding]) -> list[Finding]:
    """Findings of one rule and episode whose times follow each other within ``EPISODE_GAP``
    become one finding: the first one's frame, time and message, plus the count and the last
    frame and time (a node that keeps sending to an unregistered CoA is one finding, not one
    per packet)."""
    out: list[Finding] = []
    running: dict[tuple[str, str], int] = {}  # (rule, episode) -> index in ``out`` of the open one
    ordered = sorted(findings, key=lambda f: (f.time is None, f.time or 0.0, Finding.sort_key(f)))
    for f in ordered:
        if not f.episode or f.time is None:
            out.append(f)
            continue
        at = running.get((f.rule, f.episode))
        if at is not None:
            current = out[at]
            last = current.last_time if current.last_time is not None else current.time
            if last is not None and f.time - last <= EPISODE_GAP:
                ends = (f.last_frame, f.last_time) if f.count > 1 else (f.frame, f.time)
                out[at] = dataclasses.replace(current, count=current.count + f.count, last_frame=ends[0],
                                              last_time=ends[1])
                continue
        running[(f.rule, f.episode)] = len(out)
        out.append(f)
    return [f if f.count == 1 else dataclasses.replace(
        f, message=f"{f.message} Seen {f.count} times until {_where(f.last_frame, f.last_time)}.")
            for f in out]


def _where(frame: int | None, time: float | None) -> str:
    return f"frame {frame}" if frame is not None else f"time {time:.6f}"


__all__ = ["HISTORY", "PACKET", "PacketRuleIndex", "complete", "finalise", "run_history_rules",
           "run_packet_rules", "selected_rules"]
