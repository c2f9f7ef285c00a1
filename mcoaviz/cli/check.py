"""`mcoaviz check CAPTURE`: conformance findings grouped like Wireshark's Expert Info.

Exit codes: 0 no finding at or above --fail-on, 1 some, 2 the capture cannot be read or the
arguments are wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from typing import Any

from mcoaviz.checker.finding import SEVERITIES, SEVERITY_RANK
from mcoaviz.checker.registry import BY_CODE
from mcoaviz.cli.terminal import Writer, wants_colour

NAME = "check"
HELP = "Check a capture against draft-05 / RFC 5648 rules; findings grouped like Expert Info."

MAX_LISTED = 20  # findings listed per group in the text output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("capture", metavar="CAPTURE", help="pcap or pcapng file, or - for stdin")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    from mcoaviz.cli import query_options

    query_options.add_colour_argument(parser)
    query_options.add_filter_arguments(parser)
    parser.add_argument("--fail-on", choices=("error", "warning"), default="error",
                        help="exit 1 when a finding at or above this severity exists (default error)")
    parser.add_argument("--select", metavar="CODES", default="",
                        help="comma-separated code prefixes to report, e.g. MCOA1,MCOA302 (default all)")
    parser.add_argument("--dialect", choices=("auto", "rfc5648", "draft05"), default="auto",
                        help="how to read Binding Identifier flags (default: auto, decided per capture)")
    parser.add_argument("--bid-type", type=int, default=35, metavar="N",
                        help="mobility option type of the Binding Identifier (default 35)")
    parser.add_argument("--wireshark", action="store_true",
                        help="also run Wireshark's dissectors (tshark via pyshark) on the Mobility Header "
                             "frames: its Expert Info and every field it decodes differently")


def _prefixes(select: str) -> tuple[str, ...] | None:
    """Upper-cased prefixes, or None when one of them matches no rule."""
    prefixes = tuple(p.strip().upper() for p in select.split(",") if p.strip())
    for prefix in prefixes:
        if not any(code.startswith(prefix) for code in BY_CODE):
            return None
    return prefixes


def group_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Expert-Info-style groups: one per (severity, rule), most severe first, then by code."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        groups[(f["severity"], f["rule"])].append(f)
    out = []
    for (severity, rule), members in sorted(groups.items(),
                                            key=lambda kv: (-SEVERITY_RANK[kv[0][0]], kv[0][1])):
        first = members[0]  # findings of rules outside the registry (mcoaviz.wireshark) name themselves
        out.append({"severity": severity, "rule": rule,
                    "name": BY_CODE[rule].name if rule in BY_CODE else first.get("name", ""),
                    "section": members[0]["section"], "rfc_section": members[0].get("rfc_section"),
                    "summary": BY_CODE[rule].summary if rule in BY_CODE else first.get("summary", ""),
                    "count": len(members),
                    "frames": [m["frame"] for m in members], "findings": members})
    return out


def _frames_text(frames: list[int | None]) -> str:
    shown = [str(f) if f is not None else "-" for f in frames[:MAX_LISTED]]
    more = f" (+{len(frames) - MAX_LISTED} more)" if len(frames) > MAX_LISTED else ""
    return ", ".join(shown) + more


def render_text(groups: list[dict[str, Any]], capture: dict[str, Any]) -> str:
    lines = [f"{capture.get('file')}: {capture.get('frames', 0)} frames, dialect "
             f"{capture.get('dialect')} ({capture.get('dialect_reason', '')})"]
    if not groups:
        return "\n".join(lines + ["no findings"]) + "\n"
    lines.append(f"{'Severity':8}  {'Section':14}  {'Rule':8}  {'Count':>5}  Summary / frames")
    rfc_capture = capture.get("dialect") == "rfc5648"
    for g in groups:
        rfc = g.get("rfc_section")
        where = f" [RFC 5648 {rfc}]" if rfc_capture and rfc and rfc != g["section"] else ""
        lines.append(f"{g['severity']:8}  {g['section']:14}  {g['rule']:8}  {g['count']:>5}  "
                     f"{g['name']}: {g['summary']}{where}")
        lines.append(f"{'':43}frames {_frames_text(g['frames'])}")
        for f in g["findings"][:MAX_LISTED]:
            frame = f["frame"] if f["frame"] is not None else "-"
            lines.append(f"{'':43}  [{frame}] {f['message']}")
    counts = {s: sum(g["count"] for g in groups if g["severity"] == s) for s in SEVERITIES}
    lines.append(", ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}" for s, n in counts.items()))
    return "\n".join(lines) + "\n"


def write_text(text: str, writer: Writer) -> None:
    """``render_text``'s lines, with each group's severity word coloured on a terminal."""
    for line in text.splitlines():
        word = line.split(" ", 1)[0]
        writer.line(line, [(0, len(word), word)] if word in SEVERITY_RANK else [])


def run(args: argparse.Namespace) -> int:
    prefixes = _prefixes(args.select)
    if prefixes is None:
        print(f"mcoaviz check: error: --select {args.select!r} matches no rule (see `mcoaviz rules`)",
              file=sys.stderr)
        return 2
    from mcoaviz.cli.query_options import requested
    from mcoaviz.pipeline import AnalysisOptions, analyse
    from mcoaviz.query import Query, QueryError, restrict
    from mcoaviz.sources import CaptureSourceError

    try:
        rows = requested(args).rows
    except QueryError as exc:
        print(f"mcoaviz check: error: {exc}", file=sys.stderr)
        return 2

    try:
        analysis = analyse(args.capture, AnalysisOptions(dialect=args.dialect, bid_type=args.bid_type))
    except (CaptureSourceError, OSError) as exc:
        print(f"mcoaviz check: error: {exc}", file=sys.stderr)
        return 2
    analysis = restrict(analysis, Query(rows))  # --hoa/--coa/--node/--bid: only the findings shown
    unreadable = getattr(analysis, "unreadable", None)
    if unreadable:
        print(f"mcoaviz check: error: cannot read {args.capture}: {unreadable}", file=sys.stderr)
        return 2
    findings = [f for f in analysis.findings if not prefixes or f["rule"].startswith(prefixes)]
    if args.wireshark:
        from mcoaviz.wireshark import WiresharkUnavailable, analysis_second_opinion

        try:
            findings += analysis_second_opinion(args.capture, analysis, args.bid_type)
        except WiresharkUnavailable as exc:
            print(f"mcoaviz check: error: {exc}", file=sys.stderr)
            return 2
    groups = group_findings(findings)
    if args.json:
        json.dump({"capture": analysis.capture, "findings": findings,
                   "groups": [{k: v for k, v in g.items() if k != "findings"} for g in groups]},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        writer = Writer(sys.stdout, wants_colour(sys.stdout, args.no_color))
        write_text(render_text(groups, analysis.capture), writer)
    threshold = SEVERITY_RANK[args.fail_on]
    return 1 if any(SEVERITY_RANK[f["severity"]] >= threshold for f in findings) else 0
