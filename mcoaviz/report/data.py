"""From an ``Analysis`` to the report's compact data: summary, home address index, and per home
address the few arrays the browser turns into figures when that address is opened.

Everything here is plain JSON-able data. Times are seconds from the capture's first frame,
rounded to the millisecond; addresses are written once per home address in a string table
(``a``) and referred to by index, so thousands of home addresses stay a few megabytes.
Text that comes from the capture (interface names, the file name) passes through
``mcoaviz.safetext.printable`` here; the page escapes it again for HTML.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from dissector.codepoints import Dialect, ba_status_name
from mcoaviz.engine.events import MessageSeen
from mcoaviz.pipeline import Analysis
from mcoaviz.safetext import printable
from mcoaviz.timings import timing_tables

TRAFFIC_POINT_BUDGET = 300_000  # traffic buckets over all home addresses (bounds the file size)
MIN_BUCKETS, MAX_BUCKETS = 12, 400  # per series
MAX_EXPLAIN_LINES = 400  # "how each binding was read" lines per home address (bounds the file size)
MAX_FINDINGS_PER_HOA = 1000  # timeline markers; a node flooding findings must not bloat the file
STATES = ("confirmed", "unconfirmed", "home", "pre-existing")
DIRECTIONS = ("to-mn", "from-mn")
INDEX_COLUMNS = ("HoA", "nodes", "BIDs", "CoAs", "handovers", "de-registrations", "findings",
                 "packets to MN", "packets from MN", "bytes to MN", "bytes from MN")


def rel(t: float | None, t0: float) -> float | None:
    return None if t is None else round(t - t0, 3)


def bar_state(row: dict[str, Any]) -> str:
    if row.get("home"):
        return "home"
    if row.get("pre_existing"):
        return "pre-existing"
    return "confirmed" if row.get("confirmed", True) else "unconfirmed"


class _Strings:
    """A per-HoA string table: index of each address, first come first numbered."""

    def __init__(self, first: str) -> None:
        self.items: list[str] = []
        self.index: dict[str, int] = {}
        self(first)

    def __call__(self, value: str | None) -> int | None:
        if value is None:
            return None
        i = self.index.get(value)
        if i is None:
            i = self.index[value] = len(self.items)
            self.items.append(value)
        return i


def _by_hoa(rows: Iterable[dict[str, Any]], key: str = "hoa") -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row.get(key) is not None:
            out[row[key]].append(row)
    return out


def handover_count(bindings: list[dict[str, Any]]) -> int:
    """New CoAs under a BID at the home agents (at correspondents when there is no home agent):
    one handover is registered at each peer, so counting every node would count it twice."""
    at_ha = [r for r in bindings if r["role"] == "home-agent"]
    rows = at_ha or bindings
    return sum(1 for r in rows if r.get("end_reason") == "replaced")


def busiest_interface(traffic: Iterable[dict[str, Any]]) -> dict[tuple[str, str, str], int]:
    """(hoa, coa, direction) -> the capture interface that counted the most packets for it.
    Traffic is counted at every interface it crossed; one interface per series avoids counting
    a packet twice."""
    packets: Counter[tuple[str, str, str, int]] = Counter()
    for row in traffic:
        packets[(row["hoa"], row["coa"], row["direction"], row["interface"])] += row["packets"]
    best: dict[tuple[str, str, str], tuple[int, int]] = {}
    for (hoa, coa, direction, interface), count in packets.items():
        key = (hoa, coa, direction)
        if key not in best or count > best[key][0]:
            best[key] = (count, interface)
    return {key: interface for key, (_, interface) in best.items()}


def prepare(analysis: Analysis, hoas: list[str] | None = None) -> dict[str, Any]:
    """The whole report model. ``hoas`` restricts the index and details to those home addresses
    (the overview, topology and findings still cover the capture)."""
    cap = analysis.capture
    t0 = cap.get("first_time") or 0.0
    t_end = rel(cap.get("last_time"), t0) or 0.0
    timing = timing_tables(analysis)
    dialect = Dialect(cap["dialect"]) if cap.get("dialect") else Dialect.RFC5648
    bindings = _by_hoa(analysis.bindings)
    bul = _by_hoa(analysis.bul)
    findings = _by_hoa(analysis.findings)
    latencies = _by_hoa(timing["latencies"])
    gaps = _by_hoa(timing["gaps"])
    messages = {m["frame"]: m for m in analysis.messages}
    seen: dict[str, list[MessageSeen]] = defaultdict(list)
    for event in analysis.events:
        if isinstance(event, MessageSeen) and event.hoa is not None:
            seen[event.hoa].append(event)
    busiest = busiest_interface(analysis.traffic)
    explained = explanations(analysis)
    bins: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in analysis.traffic_bins:
        if busiest.get((row["hoa"], row["coa"], row["direction"])) == row["interface"]:
            bins[row["hoa"]].append(row)

    all_hoas = sorted(set(bindings) | set(bul) | set(seen) | {t["hoa"] for t in analysis.traffic})
    wanted = None if hoas is None else set(hoas)
    chosen = [h for h in all_hoas if wanted is None or h in wanted]
    chosen_set = set(chosen)
    series = len({(h, c, d) for (h, c, d) in busiest if h in chosen_set}) or 1
    buckets = max(MIN_BUCKETS, min(MAX_BUCKETS, TRAFFIC_POINT_BUDGET // series))
    width = max(1, math.ceil(max(t_end, 1.0) / buckets))

    statuses: set[int] = set()
    details: dict[str, Any] = {}
    index: list[list[Any]] = []
    traffic_by_hoa = _by_hoa(analysis.traffic)
    for hoa in chosen:
        detail = _detail(hoa, t0, width, bindings.get(hoa, []), seen.get(hoa, []), messages,
                         bins.get(hoa, []), latencies.get(hoa, []), gaps.get(hoa, []),
                         findings.get(hoa, []), statuses)
        detail["explain"] = explained.get(hoa, [])
        details[hoa] = detail
        index.append(_index_row(hoa, bindings.get(hoa, []), bul.get(hoa, []), findings.get(hoa, []),
                                traffic_by_hoa.get(hoa, []), busiest))
    return {
        "version": 1,
        "t0": t0,
        "t_end": t_end,
        "capture": capture_summary(analysis),
        "summary": summary(analysis, all_hoas, timing),
        "index": {"columns": list(INDEX_COLUMNS), "rows": index},
        "hoas": details,
        "traffic_bucket": width,
        "status_names": {str(s): ba_status_name(s, dialect) for s in sorted(statuses)},
        "findings": findings_model(analysis.findings, t0),
    }


def explanations(analysis: Analysis) -> dict[str, list[str]]:
    """Per home address, the text of ``mcoaviz explain`` (times from the first frame), cut to
    ``MAX_EXPLAIN_LINES`` lines."""
    from mcoaviz.query import TimeFormat
    from mcoaviz.query.explain import render, stories

    point = TimeFormat("relative", analysis.capture.get("first_time")).point
    out: dict[str, list[str]] = defaultdict(list)
    for story in stories(analysis.events, None):
        lines = out[story.hoa]
        if len(lines) < MAX_EXPLAIN_LINES:
            if lines:
                lines.append("")  # a blank line between two bindings
            lines.extend(printable(line, 0) for line in render(story, point))
    for hoa, lines in out.items():
        if len(lines) > MAX_EXPLAIN_LINES:
            out[hoa] = lines[:MAX_EXPLAIN_LINES] + [f"… (first {MAX_EXPLAIN_LINES} lines; "
                                                    "`mcoaviz explain` shows everything)"]
    return out


def capture_summary(analysis: Analysis) -> dict[str, Any]:
    cap = analysis.capture
    t0 = cap.get("first_time")
    problems = [printable(p.get("reason")) for p in analysis.problems if p.get("frame") is None][:10]
    return {
        "file": printable(cap.get("file")),
        "format": printable(cap.get("format")),
        "frames": cap.get("frames"),
        "interfaces": [{"id": i["id"], "name": printable(i.get("name") or f"if{i['id']}"),
                        "linktype": i.get("linktype")} for i in cap.get("interfaces", [])],
        "dialect": cap.get("dialect"),
        "dialect_reason": printable(cap.get("dialect_reason")),
        # (MN, peer) pairs read in the other dialect (I-1), as text lines; bounded like problems
        "pair_dialects": [printable(f"{d['hoa']} <-> {d['peer']}: {d['dialect']} "
                                    f"({d['basis']}: {d['reason']})")
                          for d in analysis.dialects if d.get("dialect") != cap.get("dialect")][:50],
        "first_time": t0,
        "span": None if t0 is None else (cap.get("last_time") or t0) - t0,
        "problem_count": cap.get("problem_count") or 0,
        "problems": problems,
        "unattributed_packets": cap.get("unattributed_packets") or 0,
        "messages": len(analysis.messages),
    }


def summary(analysis: Analysis, hoas: list[str], timing: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    roles: dict[str, set[str]] = defaultdict(set)
    for row in analysis.bindings:
        roles[row["role"]].add(row["node"])
    for row in analysis.bul:
        roles[row["peer_role"]].add(row["peer"])
    severities = Counter(f["severity"] for f in analysis.findings)
    by_hoa = _by_hoa(analysis.bindings)
    answered = [r["latency"] for r in timing["latencies"] if r["latency"] is not None]
    return {
        "home_agents": len(roles.get("home-agent", ())),
        "correspondents": len(roles.get("correspondent", ())),
        "home_addresses": len(hoas),
        "bindings": len(analysis.bindings),
        "handovers": sum(handover_count(rows) for rows in by_hoa.values()),
        "findings": {s: severities.get(s, 0) for s in ("error", "warning", "info")},
        "latency_median": sorted(answered)[len(answered) // 2] if answered else None,
        "unanswered": sum(1 for r in timing["latencies"] if r["latency"] is None),
    }


def _index_row(hoa: str, bindings: list[dict[str, Any]], bul: list[dict[str, Any]],
               findings: list[dict[str, Any]], traffic: list[dict[str, Any]],
               busiest: dict[tuple[str, str, str], int]) -> list[Any]:
    nodes = {r["node"] for r in bindings} | {r["peer"] for r in bul}
    bids = {r["bid"] for r in (*bindings, *bul) if r["bid"] is not None}
    coas = {r["coa"] for r in bindings if not r.get("home")} | {r["coa"] for r in bul if r["coa"]}
    totals = {d: [0, 0] for d in DIRECTIONS}
    for row in traffic:
        if busiest.get((hoa, row["coa"], row["direction"])) == row["interface"]:
            totals[row["direction"]][0] += row["packets"]
            totals[row["direction"]][1] += row["bytes"]
    deregistrations = sum(1 for r in bindings if r.get("end_reason") == "deregistered")
    return [hoa, len(nodes), len(bids), len(coas), handover_count(bindings), deregistrations, len(findings),
            totals["to-mn"][0], totals["from-mn"][0], totals["to-mn"][1], totals["from-mn"][1]]


def _detail(hoa: str, t0: float, width: int, bindings: list[dict[str, Any]], seen: list[MessageSeen],
            messages: dict[int, dict[str, Any]], bins: list[dict[str, Any]], latencies: list[dict[str, Any]],
            gaps: list[dict[str, Any]], findings: list[dict[str, Any]], statuses: set[int]) -> dict[str, Any]:
    s = _Strings(hoa)
    lanes: dict[tuple[str, Any], int] = {}
    lane_rows: list[list[Any]] = []

    def lane(node: str, bid: Any, role: str) -> int:
        key = (node, bid)
        if key not in lanes:
            lanes[key] = len(lane_rows)
            lane_rows.append([s(node), bid, "HA" if role == "home-agent" else "CN"])
        return lanes[key]

    ordered = sorted(bindings, key=lambda r: (r["role"] != "home-agent", r["node"],
                                              -1 if r["bid"] is None else r["bid"], r["start"]))
    bars = [[lane(r["node"], r["bid"], r["role"]), rel(r["start"], t0), rel(r["end"], t0), s(r["coa"]),
             bar_state(r), r.get("lifetime"), r.get("start_frame"), r.get("end_frame"), r.get("end_reason")]
            for r in ordered]
    msgs: list[list[Any]] = []
    msg_index: dict[int, int] = {}  # BU frame -> position in msgs (latency rows refer to it)
    for event in seen:
        msg_index[event.frame] = len(msgs)
        row = messages.get(event.frame, {})
        status = row.get("status")
        if status is not None:
            statuses.add(status)
        bids = ",".join(str(b) for b in event.bids)
        msgs.append([rel(event.time, t0), event.kind, s(event.src), s(event.dst), event.seq, status,
                     event.frame, bids, row.get("lifetime"), s(event.peer)])
    traffic = _traffic_series(bins, s, t0, width)
    # [BU's index in msgs, BID, CoA, latency, outcome (None: answered), attempts, since first attempt
    # (None: same as latency)]; time, seq and frame are the BU message's
    lat = [[msg_index.get(r["bu_frame"]), r["bid"], s(r["coa"]), _round(r["latency"]),
            None if r["outcome"] == "answered" else r["outcome"], r["attempts"],
            None if r["attempts"] == 1 else _round(r["since_first_attempt"])]
           for r in latencies if r["bu_frame"] in msg_index]
    gap = [[rel(r["time"], t0), lane(r["node"], r["bid"], r["role"]), r["change"], s(r["old_coa"]),
            s(r["new_coa"]), _round(r["silent_before"]), _round(r["silent_after"]), _round(r["interruption"]),
            r["precision"]] for r in gaps]
    found = [[rel(f.get("time"), t0), f["severity"], f["rule"], f.get("frame"), printable(f["message"], 400),
              f.get("bid")] for f in findings[:MAX_FINDINGS_PER_HOA]]
    return {"a": s.items, "lanes": lane_rows, "bars": bars, "msgs": msgs, "traffic": traffic,
            "lat": lat, "gaps": gap, "findings": found, "findings_total": len(findings)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _traffic_series(bins: list[dict[str, Any]], s: _Strings, t0: float, width: int) -> list[list[Any]]:
    """Per (CoA, direction): [coa index, direction, first bucket, packets[], bytes[]] with buckets
    of ``width`` seconds counted from the first frame (rates are computed in the page)."""
    first_second = math.floor(t0)
    cells: dict[tuple[str, str], dict[int, list[int]]] = defaultdict(dict)
    for row in bins:
        bucket = (int(row["second"]) - first_second) // width
        cell = cells[(row["coa"], row["direction"])].setdefault(bucket, [0, 0])
        cell[0] += row["packets"]
        cell[1] += row["bytes"]
    out = []
    for (coa, direction), by_bucket in sorted(cells.items()):
        lo, hi = min(by_bucket), max(by_bucket)
        packets = [by_bucket.get(b, (0, 0))[0] for b in range(lo, hi + 1)]
        nbytes = [by_bucket.get(b, (0, 0))[1] for b in range(lo, hi + 1)]
        out.append([s(coa), direction, lo, packets, nbytes])
    return out


def findings_model(findings: list[dict[str, Any]], t0: float) -> dict[str, Any]:
    """Findings grouped by severity and rule: count, the first frames, the first message and
    where it happened (the page zooms there when the group is clicked)."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for f in findings:
        group = groups.get((f["severity"], f["rule"]))
        if group is None:
            group = groups[(f["severity"], f["rule"])] = {
                "severity": f["severity"], "rule": f["rule"], "section": f.get("section"),
                "rfc_section": f.get("rfc_section"), "count": 0, "frames": [],
                "message": printable(f["message"], 400), "time": rel(f.get("time"), t0), "hoa": f.get("hoa")}
        group["count"] += 1
        if f.get("frame") is not None and len(group["frames"]) < 20:
            group["frames"].append(f["frame"])
    rank = {"error": 0, "warning": 1, "info": 2}
    ordered = sorted(groups.values(), key=lambda g: (rank.get(g["severity"], 3), g["rule"]))
    return {"groups": ordered, "total": len(findings)}
