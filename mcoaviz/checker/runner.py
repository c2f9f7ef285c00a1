"""Runs the selected rules and turns their hits into findings (sorted, de-duplicated)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mcoaviz.checker.context import CheckerConfig, HistoryContext, PacketContext
from mcoaviz.checker.finding import Finding, Hit
from mcoaviz.checker.registry import HISTORY, PACKET, RULES, Rule


def selected_rules(config: CheckerConfig, kind: str) -> tuple[Rule, ...]:
    return tuple(r for r in RULES if r.kind == kind and config.selected(r.code))


def complete(rule: Rule, hit: Hit, config: CheckerConfig) -> Finding | None:
    """A hit plus its rule's registry line; None when the rule does not apply to the dialect."""
    dialect = (hit.dialect or config.dialect).value
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
    )


def run_packet_rules(rules: Sequence[Rule], ctx: PacketContext) -> Iterable[Finding]:
    for rule in rules:
        for hit in rule.check(ctx):
            finding = complete(rule, hit, ctx.config)
            if finding is not None:
                yield finding


def run_history_rules(rules: Sequence[Rule], ctx: HistoryContext) -> Iterable[Finding]:
    for rule in rules:
        for hit in rule.check(ctx):
            finding = complete(rule, hit, ctx.config)
            if finding is not None:
                yield finding


def finalise(findings: Iterable[Finding]) -> list[Finding]:
    """De-duplicate by identifier (first wins) and sort by frame, then severity."""
    unique: dict[str, Finding] = {}
    for f in findings:
        unique.setdefault(f.identifier, f)
    return sorted(unique.values(), key=Finding.sort_key)


__all__ = ["HISTORY", "PACKET", "complete", "finalise", "run_history_rules", "run_packet_rules",
           "selected_rules"]
