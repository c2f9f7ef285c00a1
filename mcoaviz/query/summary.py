"""Summaries that scale: counts per node and role, rankings of home and care-of addresses.

What a post-mortem of a big capture asks first: which nodes are there, which mobile nodes had
the most handovers, the most findings, the most traffic, and which care-of addresses carried
the most. Definitions:

* handovers of a HoA: CoA changes under one BID, i.e. binding rows that ended ``replaced``,
  counted at the node (home agent or correspondent) that saw the most of them, so that a
  handover registered at both the HA and a CN counts once;
* findings of a HoA: findings naming it (``hoa``), or at the frame of a message of that HoA;
* traffic: packets and bytes as counted at each capture point (a packet that crossed two
  capture interfaces counts twice, as in the traffic table).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from mcoaviz.pipeline import Analysis

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class NodeCount:
    role: str  # "home-agent" | "correspondent"
    node: str
    hoas: int  # home addresses it held a binding for
    bindings: int  # binding rows (intervals)
    open_at_end: int  # rows still valid at the end of the capture


@dataclass(slots=True)
class HoaStats:
    hoa: str
    handovers: int = 0
    findings: int = 0
    packets: int = 0
    bytes: int = 0
    coas: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class CoaStats:
    coa: str
    hoa: str
    packets: int
    bytes: int


@dataclass(slots=True)
class Summary:
    nodes: list[NodeCount]
    mobile_nodes: int  # home addresses with a binding or a binding update list
    hoas: dict[str, HoaStats]
    coas: list[CoaStats]  # busiest first
    severities: dict[str, int]
    rules: list[tuple[str, str, int]]  # (rule, severity, count), most frequent first
    rows: dict[str, int]  # table -> row count

    def top(self, by: str, n: int = 5) -> list[HoaStats]:
        """The ``n`` home addresses with most ``by`` ("handovers", "findings", "packets",
        "bytes"); addresses with none are left out."""
        ranked = [s for s in self.hoas.values() if getattr(s, by) > 0]
        ranked.sort(key=lambda s: (-getattr(s, by), s.hoa))
        return ranked[:n]


def summarise(analysis: Analysis) -> Summary:
    per_node: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    hoas: dict[str, HoaStats] = {}

    def stats(hoa: str) -> HoaStats:
        entry = hoas.get(hoa)
        if entry is None:
            entry = hoas[hoa] = HoaStats(hoa)
        return entry

    replaced: Counter[tuple[str, str]] = Counter()  # (hoa, node) -> CoA changes
    for row in analysis.bindings:
        per_node[(row["role"], row["node"])].append(row)
        stats(row["hoa"]).coas.add(row["coa"])
        if row["end_reason"] == "replaced":
            replaced[(row["hoa"], row["node"])] += 1
    for (hoa, _node), count in replaced.items():
        stats(hoa).handovers = max(stats(hoa).handovers, count)
    for row in analysis.bul:
        stats(row["hoa"])
    nodes = [NodeCount(role, node, len({r["hoa"] for r in rows}), len(rows),
                       sum(1 for r in rows if r["end"] is None))
             for (role, node), rows in per_node.items()]
    nodes.sort(key=lambda n: (n.role != "home-agent", -n.bindings, n.node))

    coa_totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in analysis.traffic:
        entry = stats(row["hoa"])
        entry.packets += row["packets"]
        entry.bytes += row["bytes"]
        cell = coa_totals[(row["coa"], row["hoa"])]
        cell[0] += row["packets"]
        cell[1] += row["bytes"]
    coas = [CoaStats(coa, hoa, packets, nbytes) for (coa, hoa), (packets, nbytes) in coa_totals.items()]
    coas.sort(key=lambda c: (-c.bytes, -c.packets, c.coa))

    message_hoa = {m["frame"]: m.get("hoa") for m in analysis.messages}
    rules: Counter[tuple[str, str]] = Counter()
    for finding in analysis.findings:
        rules[(finding["rule"], finding["severity"])] += 1
        finding_hoa = finding.get("hoa") or message_hoa.get(finding.get("frame"))
        if finding_hoa:
            stats(finding_hoa).findings += 1
    severities = {s: sum(n for (_, sev), n in rules.items() if sev == s) for s in SEVERITIES}
    rule_list = sorted(((rule, sev, n) for (rule, sev), n in rules.items()), key=lambda r: (-r[2], r[0]))
    return Summary(
        nodes=nodes,
        mobile_nodes=len({r["hoa"] for r in analysis.bindings} | {r["hoa"] for r in analysis.bul}),
        hoas=hoas, coas=coas, severities=severities, rules=rule_list,
        rows={name: len(getattr(analysis, name)) for name in ("bindings", "bul", "traffic", "findings")},
    )
