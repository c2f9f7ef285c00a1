"""`mcoaviz analyse CAPTURE`: what happened to the bindings, in plain terminal tables.

Prints the capture summary (frames, interfaces, time span, dialect and why), every node's
binding cache as intervals, every mobile node's binding update list, traffic per CoA, and the
checker's findings grouped by severity. Times are seconds from the first frame.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from dissector.capture import problem_kind
from dissector.records import Problem
from mcoaviz.pipeline import Analysis
from mcoaviz.safetext import printable, utc_text

NAME = "analyse"
HELP = "Reconstruct binding caches, binding update lists and per-CoA traffic; list findings."
SEVERITY_ORDER = ("error", "warning", "info")
MAX_NAMES = 16  # interface names listed in the summary; a file can describe thousands


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mcoaviz.cli.decode import add_dialect_arguments

    parser.add_argument("capture", metavar="CAPTURE", help="pcap or pcapng file, or - for stdin")
    parser.add_argument("--no-checker", action="store_true", help="skip the conformance checker")
    parser.add_argument("--max-findings", type=int, default=50, metavar="N",
                        help="findings listed per severity (default 50; 0 = all)")
    add_dialect_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from mcoaviz.cli.export import load

    analysis = load(args)
    if analysis is None:
        return 2
    if analysis.unreadable:
        print(f"mcoaviz analyse: cannot read {args.capture}: {analysis.unreadable}", file=sys.stderr)
        return 2
    report(analysis, sys.stdout, max_findings=args.max_findings)
    return stopped_status(analysis, "analyse")


def stopped_status(analysis: Analysis, command: str) -> int:
    """2 with the reason on stderr when reading stopped at a corrupt block (the results shown
    cover the frames before it); 0 otherwise."""
    if not analysis.stopped:
        return 0
    sys.stdout.flush()
    print(f"mcoaviz {command}: error: {printable(analysis.stopped)}; results cover the "
          f"{analysis.capture.get('frames', 0)} frames before it", file=sys.stderr)
    return 2


# --------------------------------------------------------------------------- formatting


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> list[str]:
    """Left-aligned text columns (numbers right-aligned), two spaces apart."""
    cells = [[_text(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool) for row in rows
                   if row[i] is not None) and bool(rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return (indent + "  ".join(parts)).rstrip()

    return [line(list(headers)), line(["-" * w for w in widths])] + [line(row) for row in cells]


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return printable(value)  # interface names and other text from the capture


def _rel(t: float | None, t0: float) -> float | None:
    return None if t is None else t - t0


def _notes(row: dict[str, Any]) -> str:
    notes = []
    if row.get("home"):
        notes.append("home")
    if not row.get("confirmed", True):
        notes.append("unconfirmed")
    if row.get("pre_existing"):
        notes.append("pre-existing")
    if row.get("claimed_coa"):
        notes.append(f"claimed {row['claimed_coa']}")
    return ", ".join(notes)


def report(analysis: Analysis, out: TextIO, *, max_findings: int = 50) -> None:
    cap = analysis.capture
    t0 = cap.get("first_time") or 0.0
    w = out.write
    w(f"Capture {printable(cap.get('file'))}  ({cap.get('format') or 'unknown format'})\n")
    interfaces = cap.get("interfaces", [])
    names = ", ".join(printable(i.get("name") or f"if{i['id']}") for i in interfaces[:MAX_NAMES]) or "-"
    if len(interfaces) > MAX_NAMES:
        names += f", ... {len(interfaces) - MAX_NAMES} more"
    w(f"  frames      {cap.get('frames')} on {len(interfaces)} interface(s): {names}\n")
    if cap.get("first_time") is not None:
        start = utc_text(cap["first_time"])
        span = (cap.get("last_time") or t0) - t0
        w(f"  time span   {span:.3f} s from {start} (times below: seconds from the first frame)\n")
    w(f"  dialect     {cap.get('dialect')} ({cap.get('dialect_reason')})\n")
    w(f"  signalling  {len(analysis.messages)} mobility messages\n")
    if cap.get("problem_count"):
        w(f"  problems    {cap['problem_count']} decoding problem(s) (see mcoaviz decode)\n")
        # Capture-level problems (a truncated file, a bad block) matter more than any table below.
        # one line per kind: a file of a million bad blocks says so in one line, with the count
        kinds = cap.get("problem_kinds", {})
        shown: set[str] = set()
        for problem in analysis.problems:
            if problem.get("frame") is not None:
                continue
            kind = problem_kind(Problem(problem["layer"], 0, problem["reason"]))
            if kind in shown:
                continue
            shown.add(kind)
            times = f" (x{kinds[kind]})" if kinds.get(kind, 1) > 1 else ""
            w(f"  {problem['severity']:<11} {printable(problem['reason'])}{times}\n")
            if len(shown) == 3:
                break
    w("\n")
    _bindings(analysis, out, t0)
    _bul(analysis, out, t0)
    _traffic(analysis, out)
    _findings(analysis, out, max_findings)


def _bindings(analysis: Analysis, out: TextIO, t0: float) -> None:
    out.write("Binding caches (intervals)\n")
    if not analysis.bindings:
        out.write("  none reconstructed\n\n")
        return
    nodes: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in analysis.bindings:
        nodes.setdefault((row["role"], row["node"]), []).append(row)
    for (role, node), rows in sorted(nodes.items()):
        out.write(f" {role} {node}\n")
        body = [(r["hoa"], r["bid"], r["coa"], _rel(r["start"], t0), _rel(r["end"], t0),
                 r["end_reason"] or ("valid at end" if r["end"] is None else None), r.get("lifetime"),
                 _notes(r)) for r in rows]
        for line in table(("HoA", "BID", "CoA", "start", "end", "reason", "lifetime", "notes"), body):
            out.write(line + "\n")
    out.write("\n")


def _bul(analysis: Analysis, out: TextIO, t0: float) -> None:
    out.write("Binding update lists (mobile nodes)\n")
    if not analysis.bul:
        out.write("  none\n\n")
        return
    mns: dict[str, list[dict[str, Any]]] = {}
    for row in analysis.bul:
        mns.setdefault(row["hoa"], []).append(row)
    for hoa, rows in sorted(mns.items()):
        out.write(f" mobile node {hoa}\n")
        body = [(r["peer"], r["peer_role"], r["bid"], r["coa"], _rel(r["start"], t0), _rel(r["end"], t0),
                 r["end_reason"], r["acknowledged"], r["status"], r["last_seq"], r["lifetime"]) for r in rows]
        headers = ("peer", "role", "BID", "CoA", "start", "end", "reason", "acked", "status", "seq",
                   "lifetime")
        for line in table(headers, body):
            out.write(line + "\n")
    out.write("\n")


def _traffic(analysis: Analysis, out: TextIO) -> None:
    out.write("Traffic per care-of address (counted at each capture interface it crossed)\n")
    if not analysis.traffic:
        out.write("  no tunnelled or route-optimised data\n\n")
        return
    names = {i["id"]: i.get("name") or f"if{i['id']}" for i in analysis.capture.get("interfaces", [])}
    body = [(names.get(t["interface"], t["interface"]), t["node"], t["hoa"], t["coa"], t["bid"],
             t["direction"], t["via"], t["packets"], t["bytes"]) for t in analysis.traffic]
    headers = ("seen at", "node", "HoA", "CoA", "BID", "direction", "via", "packets", "bytes")
    for line in table(headers, body):
        out.write(line + "\n")
    unattributed = analysis.capture.get("unattributed_packets")
    if unattributed:
        out.write(f"  ({unattributed} tunnelled packet(s) could not be attributed to a mobile node)\n")
    out.write("\n")


def _findings(analysis: Analysis, out: TextIO, max_findings: int) -> None:
    if not analysis.checker_available:
        out.write("Findings: checker not available\n")
        return
    findings = analysis.findings
    counts = {s: sum(1 for f in findings if f["severity"] == s) for s in SEVERITY_ORDER}
    summary = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items())
    out.write(f"Findings: {summary}\n")
    for severity in SEVERITY_ORDER:
        chosen = [f for f in findings if f["severity"] == severity]
        if not chosen:
            continue
        out.write(f" {severity}\n")
        shown = chosen if max_findings <= 0 else chosen[:max_findings]
        rows = []
        for f in shown:
            section = str(f.get("section") or "")
            rows.append((f["rule"], section if section.startswith("§") else f"§{section}",
                         f"frame {f['frame']}" if f.get("frame") is not None else "capture", f["message"]))
        for line in table(("rule", "section", "where", "finding"), rows)[2:]:
            out.write(line + "\n")
        if len(shown) < len(chosen):
            out.write(f"  ... {len(chosen) - len(shown)} more (mcoaviz check for all)\n")
