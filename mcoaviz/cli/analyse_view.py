"""Text rendering for `mcoaviz analyse`: capture summary, caches, BULs, traffic, findings, and the
summary that replaces the tables when they would not fit on a screen.

Input is an ``Analysis`` already restricted by ``mcoaviz.query.restrict`` (filters, ``--at``,
``--between``); times go through a ``TimeFormat`` (``-t``); colour through a ``Writer``.
Capture text (file and interface names) goes through ``safetext.printable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dissector.capture import problem_kind
from dissector.records import Problem
from mcoaviz.cli.terminal import Styled, Writer, table
from mcoaviz.pipeline import Analysis
from mcoaviz.query import Summary, TimeFormat, summarise
from mcoaviz.safetext import printable, utc_text

SEVERITY_ORDER = ("error", "warning", "info")
SCREENFUL = 200  # table rows above which the summary is printed instead (unless --all)
TOP = 5  # rows per ranking in the summary
NODES_LISTED = 5  # nodes listed in the summary (the rest counted)
RULES_LISTED = 5
MAX_NAMES = 16  # interface names listed in the header; a file can describe thousands


@dataclass(frozen=True, slots=True)
class ReportOptions:
    max_findings: int = 50  # per severity; 0 = all
    show_all: bool = False  # --all: the tables even when they are long
    summary: bool = False  # --summary: the summary even when the tables are short


def report(analysis: Analysis, writer: Writer, times: TimeFormat,
           options: ReportOptions = ReportOptions()) -> None:
    _header(analysis, writer, times)
    rows = table_rows(analysis, options.max_findings)
    query = analysis.capture.get("query") or {}
    if options.summary or (rows > SCREENFUL and not options.show_all):
        _summary(analysis, summarise(analysis), writer, rows, bool(query), asked=options.summary)
        return
    instant = query.get("at")
    _bindings(analysis, writer, times, instant)
    _bul(analysis, writer, times, instant)
    if instant is None:
        _traffic(analysis, writer)
        _findings(analysis, writer, options.max_findings)


def table_rows(analysis: Analysis, max_findings: int) -> int:
    """Rows the full report would print in its tables (findings as capped per severity)."""
    instant = (analysis.capture.get("query") or {}).get("at") is not None
    findings = 0
    for severity in SEVERITY_ORDER:
        n = sum(1 for f in analysis.findings if f["severity"] == severity)
        findings += n if max_findings <= 0 else min(n, max_findings)
    extra = 0 if instant else len(analysis.traffic) + findings
    return len(analysis.bindings) + len(analysis.bul) + extra


# --------------------------------------------------------------------------- header

MAX_PAIRS = 8  # (MN, peer) dialect lines in the header; the export has them all


def _pair_dialects(analysis: Analysis, w: Writer) -> None:
    """One line per (MN, peer) pair when they do not all follow the capture-wide dialect, else a
    count (I-1: the dialect is decided per pair; the export's ``dialects`` table has the reasons)."""
    rows = analysis.dialects
    if not rows:
        return
    capture = analysis.capture.get("dialect")
    if all(r["dialect"] == capture for r in rows):
        count = "1 (mobile node, peer) pair" if len(rows) == 1 else \
            f"all {len(rows)} (mobile node, peer) pairs"
        w.line(f"  pairs       {count}: {capture}")
        return
    for r in rows[:MAX_PAIRS]:
        w.line(f"  pair        {printable(r['hoa'])} <-> {printable(r['peer'])}: {r['dialect']} "
               f"({r['basis']}: {printable(r['reason'])})")
    if len(rows) > MAX_PAIRS:
        w.line(f"  pair        ... {len(rows) - MAX_PAIRS} more (mcoaviz export: dialects)")


def _header(analysis: Analysis, w: Writer, times: TimeFormat) -> None:
    cap = analysis.capture
    w.styled(f"Capture {printable(cap.get('file'))}  ({cap.get('format') or 'unknown format'})", "title")
    interfaces = cap.get("interfaces", [])
    names = ", ".join(printable(i.get("name")) or f"if{i['id']}" for i in interfaces[:MAX_NAMES]) or "-"
    if len(interfaces) > MAX_NAMES:  # a file can describe thousands of interfaces
        names += f", ... {len(interfaces) - MAX_NAMES} more"
    w.line(f"  frames      {cap.get('frames')} on {len(interfaces)} interface(s): {names}")
    first = cap.get("first_time")
    if first is not None:
        start = utc_text(first)  # times no calendar can show are printed as seconds
        span = (cap.get("last_time") or first) - first
        w.line(f"  time span   {span:.3f} s from {start} (times below: {times.legend()})")
    w.line(f"  dialect     {cap.get('dialect')} ({printable(cap.get('dialect_reason'))})")
    _pair_dialects(analysis, w)
    total = cap.get("messages_total", len(analysis.messages))
    query = cap.get("query") or {}
    shown_messages = f" ({len(analysis.messages)} shown)" if query and "at" not in query else ""
    w.line(f"  signalling  {total} mobility messages{shown_messages}")
    if cap.get("problem_count"):
        w.line(f"  problems    {cap['problem_count']} decoding problem(s) (see mcoaviz decode)")
        # Capture-level problems (a truncated file, a bad block) matter more than any table below:
        # one line per kind, so a file of a million bad blocks says so in one line, with the count
        kinds = cap.get("problem_kinds", {})
        seen: set[str] = set()
        for problem in analysis.problems:
            if problem.get("frame") is not None:
                continue
            kind = problem_kind(Problem(problem["layer"], 0, problem["reason"]))
            if kind in seen:
                continue
            seen.add(kind)
            times_seen = f" (x{kinds[kind]})" if kinds.get(kind, 1) > 1 else ""
            w.line(f"  {problem['severity']:<11} {printable(problem['reason'])}{times_seen}",
                   [(2, 2 + len(problem["severity"]), problem["severity"])])
            if len(seen) == 3:
                break
    shown = [f"{name} {' or '.join(str(v) if v is not None else 'none' for v in query[name])}"
             for name in ("hoa", "coa", "node", "bid") if name in query]
    if "at" in query:
        outside = ""
        if first is not None and query["at"] < first:
            outside = " (before the first frame: nothing seen yet)"
        elif cap.get("last_time") is not None and query["at"] > cap["last_time"]:
            outside = " (after the last frame: what the capture implies)"
        shown.append(f"state at {times.instant(query['at'])}{outside}")
    if "between" in query:
        t1, t2 = query["between"]
        shown.append(f"overlapping {times.instant(t1)} .. {times.instant(t2)}")
    if shown:
        w.line(f"  showing     {'; '.join(shown)}", [(14, 14 + len("; ".join(shown)), "heading")])
    w.line()


# --------------------------------------------------------------------------- tables


def _reason(row: dict[str, Any]) -> Styled:
    reason = row.get("end_reason")
    if reason:
        return Styled(reason, reason)
    return Styled("valid at end" if row.get("end") is None else None, "valid")


def _notes(row: dict[str, Any]) -> Styled:
    notes = []
    if row.get("home"):
        notes.append("home")
    if not row.get("confirmed", True):
        notes.append("unconfirmed")
    if row.get("pre_existing"):
        notes.append("pre-existing")
    if row.get("claimed_coa"):
        notes.append(f"claimed {row['claimed_coa']}")
    return Styled(", ".join(notes), "unconfirmed" if "unconfirmed" in notes else None)


def _remaining(row: dict[str, Any], pending: bool = False) -> Any:
    if row.get("remaining") is not None:
        return row["remaining"]
    return Styled("pending" if pending else "no expiry", "pending" if pending else None)


def _bindings(analysis: Analysis, w: Writer, times: TimeFormat, instant: float | None) -> None:
    when = f" at {times.instant(instant)}" if instant is not None else " (intervals)"
    w.styled(f"Binding caches{when}", "heading")
    if not analysis.bindings:
        w.line("  none" if instant is not None else "  none reconstructed")
        w.line()
        return
    nodes: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in analysis.bindings:
        nodes.setdefault((row["role"], row["node"]), []).append(row)
    headers = ["HoA", "BID", "CoA", "start", "end", "reason", "lifetime", "notes"]
    if instant is not None:
        headers.insert(6, "remaining")
    for (role, node), rows in sorted(nodes.items()):
        w.styled(f" {role} {node}", "title")
        times.restart()
        body = []
        for r in rows:
            cells = [r["hoa"], r["bid"], r["coa"], times.point(r["start"]), times.end(r["start"], r["end"]),
                     _reason(r), r.get("lifetime"), _notes(r)]
            if instant is not None:
                cells.insert(6, _remaining(r))
            body.append(cells)
        w.lines(table(headers, body))
    w.line()


def _bul(analysis: Analysis, w: Writer, times: TimeFormat, instant: float | None) -> None:
    when = f" at {times.instant(instant)}" if instant is not None else ""
    w.styled(f"Binding update lists (mobile nodes){when}", "heading")
    if not analysis.bul:
        w.line("  none")
        w.line()
        return
    mns: dict[str, list[dict[str, Any]]] = {}
    for row in analysis.bul:
        mns.setdefault(row["hoa"], []).append(row)
    headers = ["peer", "role", "BID", "CoA", "start", "end", "reason", "acked", "status", "seq", "lifetime"]
    if instant is not None:
        headers.insert(7, "remaining")
    for hoa, rows in sorted(mns.items()):
        w.styled(f" mobile node {hoa}", "title")
        times.restart()
        body = []
        for r in rows:
            reason = r["end_reason"]
            cells = [r["peer"], r["peer_role"], r["bid"], r["coa"], times.point(r["start"]),
                     times.end(r["start"], r["end"]), Styled(reason, reason), r["acknowledged"],
                     Styled(r["status"], "rejected" if (r["status"] or 0) >= 128 else None),
                     r["last_seq"], r["lifetime"]]
            if instant is not None:
                cells.insert(7, _remaining(r, pending=not r["acknowledged"] or r.get("expires") is None))
            body.append(cells)
        w.lines(table(headers, body))
    w.line()


def _traffic(analysis: Analysis, w: Writer) -> None:
    w.styled("Traffic per care-of address (counted at each capture interface it crossed)", "heading")
    if not analysis.traffic:
        w.line("  no tunnelled or route-optimised data")
        w.line()
        return
    # raw names: the table neutralises every cell itself (escaping twice would double backslashes)
    names = {i["id"]: i.get("name") or f"if{i['id']}" for i in analysis.capture.get("interfaces", [])}
    body = [(names.get(t["interface"], t["interface"]), t["node"], t["hoa"], t["coa"], t["bid"],
             t["direction"], t["via"], t["packets"], t["bytes"]) for t in analysis.traffic]
    headers = ("seen at", "node", "HoA", "CoA", "BID", "direction", "via", "packets", "bytes")
    w.lines(table(headers, body))
    unattributed = analysis.capture.get("unattributed_packets")
    if unattributed and not analysis.capture.get("query"):
        w.line(f"  ({unattributed} tunnelled packet(s) could not be attributed to a mobile node)")
    w.line()


def _severity_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items())


def _findings_title(analysis: Analysis, w: Writer, counts: dict[str, int]) -> None:
    text = f"Findings: {_severity_counts(counts)}"
    spans: list[tuple[int, int, str]] = [(0, 9, "heading")]
    pos = 10
    for severity, n in counts.items():
        piece = f"{n} {severity}{'s' if n != 1 else ''}"
        if n:
            spans.append((pos, pos + len(piece), severity))
        pos += len(piece) + 2
    w.line(text, spans)


def _findings(analysis: Analysis, w: Writer, max_findings: int) -> None:
    if not analysis.checker_available:
        w.line("Findings: checker not available")
        return
    findings = analysis.findings
    counts = {s: sum(1 for f in findings if f["severity"] == s) for s in SEVERITY_ORDER}
    _findings_title(analysis, w, counts)
    for severity in SEVERITY_ORDER:
        chosen = [f for f in findings if f["severity"] == severity]
        if not chosen:
            continue
        w.styled(f" {severity}", severity)
        shown = chosen if max_findings <= 0 else chosen[:max_findings]
        rows = []
        for f in shown:
            section = str(f.get("section") or "")
            rows.append((Styled(f["rule"], severity), section if section.startswith("§") else f"§{section}",
                         f"frame {f['frame']}" if f.get("frame") is not None else "capture", f["message"]))
        w.lines(table(("rule", "section", "where", "finding"), rows, header=False))
        if len(shown) < len(chosen):
            w.line(f"  ... {len(chosen) - len(shown)} more (mcoaviz check for all)")


# --------------------------------------------------------------------------- summary


def _summary(analysis: Analysis, summary: Summary, w: Writer, rows: int, filtered: bool,
             asked: bool = False) -> None:
    narrower = "a narrower filter" if filtered else "a filter: --hoa, --coa, --node, --bid, --at, --between"
    if asked:
        w.styled(f"Summary of {rows} table rows", "heading")
        w.line(" (without --summary the tables are listed" + (")" if rows <= SCREENFUL else
                                                               f" with --all, or use {narrower})"))
    else:
        w.styled(f"Summary: {rows} table rows are too many to list", "heading")
        w.line(f" (--all lists them all, or use {narrower})")
    roles = {role: sum(1 for n in summary.nodes if n.role == role)
             for role in ("home-agent", "correspondent")}
    w.line(f" {roles['home-agent']} home agent(s), {roles['correspondent']} correspondent node(s), "
           f"{summary.mobile_nodes} mobile node(s) (home addresses)")
    w.line(f" {summary.rows['bindings']} binding intervals, {summary.rows['bul']} BUL rows, "
           f"{summary.rows['traffic']} traffic rows, {summary.rows['findings']} findings")
    body = [(n.role, n.node, n.hoas, n.bindings, n.open_at_end) for n in summary.nodes[:NODES_LISTED]]
    w.lines(table(("role", "node", "HoAs", "bindings", "valid at end"), body))
    if len(summary.nodes) > NODES_LISTED:
        w.line(f"  ... {len(summary.nodes) - NODES_LISTED} more node(s) (--node to see one)")
    for title, key in (("handovers (CoA changes under a BID)", "handovers"), ("findings", "findings"),
                       ("traffic (bytes, counted at each capture point)", "bytes")):
        w.styled(f" Top home addresses by {title}", "title")
        top = summary.top(key, TOP)
        if not top:
            w.line("  none")
            continue
        w.lines(table(("HoA", "handovers", "findings", "CoAs", "packets", "bytes"),
                      [(s.hoa, s.handovers, s.findings, len(s.coas), s.packets, s.bytes) for s in top]))
    w.styled(" Busiest care-of addresses", "title")
    if summary.coas:
        w.lines(table(("CoA", "HoA", "packets", "bytes"),
                      [(c.coa, c.hoa, c.packets, c.bytes) for c in summary.coas[:TOP]]))
    else:
        w.line("  none")
    w.line()
    if not analysis.checker_available:
        w.line("Findings: checker not available")
        return
    _findings_title(analysis, w, summary.severities)
    from mcoaviz.checker.registry import BY_CODE

    rules = [(Styled(rule, severity), severity, count, BY_CODE[rule].name if rule in BY_CODE else "")
             for rule, severity, count in summary.rules[:RULES_LISTED]]
    if rules:
        w.lines(table(("rule", "severity", "count", "name"), rules))
    if len(summary.rules) > RULES_LISTED:
        w.line(f"  ... {len(summary.rules) - RULES_LISTED} more rule(s) (mcoaviz check lists every finding)")
