"""`mcoaviz check CAPTURE`: conformance findings grouped like Wireshark's Expert Info.

Exit codes: 0 no finding at or above --fail-on, 1 some, 2 the capture cannot be read or the
arguments are wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from mcoaviz.checker.finding import SEVERITIES, SEVERITY_RANK
from mcoaviz.checker.registry import BY_CODE
from mcoaviz.cli.progress import add_quiet_argument
from mcoaviz.cli.terminal import Writer, wants_colour
from mcoaviz.safetext import printable

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
    from mcoaviz.cli.decode import add_dialect_arguments

    add_dialect_arguments(parser)
    add_quiet_argument(parser)
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
        name, summary = ((BY_CODE[rule].name, BY_CODE[rule].summary) if rule in BY_CODE else
                         ("capture-problem", "the capture file is damaged; results may be incomplete")
                         if rule == CAPTURE_RULE else (first.get("name", ""), first.get("summary", "")))
        out.append({"severity": severity, "rule": rule, "name": name,
                    "section": members[0]["section"], "rfc_section": members[0].get("rfc_section"),
                    "summary": summary,
                    "count": sum(m.get("count", 1) for m in members),  # an episode counts its hits
                    "frames": [m["frame"] for m in members], "findings": members})
    return out


CAPTURE_RULE = "CAPTURE"  # findings of their own kind (like Zeek's weird.log): the file, not the protocol


def capture_findings(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Capture-level problems (a truncated file, a corrupt block) as findings, so that a broken
    capture is never "no findings" and ``--fail-on`` sees it."""
    return [{"rule": CAPTURE_RULE, "section": "capture", "severity": p["severity"], "frame": None,
             "message": p["reason"], "rfc_section": None, "time": None, "hoa": None, "bid": None}
            for p in problems if p.get("frame") is None]


def _frames_text(frames: list[int | None]) -> str:
    shown = [str(f) if f is not None else "-" for f in frames[:MAX_LISTED]]
    more = f" (+{len(frames) - MAX_LISTED} more)" if len(frames) > MAX_LISTED else ""
    return ", ".join(shown) + more


MAX_PAIRS = 8  # (MN, peer) pairs of another dialect listed under the first line


def render_text(groups: list[dict[str, Any]], capture: dict[str, Any],
                dialects: Sequence[dict[str, Any]] = ()) -> str:
    lines = [f"{printable(capture.get('file'))}: {capture.get('frames', 0)} frames, dialect "
             f"{capture.get('dialect')} ({printable(capture.get('dialect_reason', ''))})"]
    # pairs read in the other dialect (I-1): the findings about them follow their text
    other = [d for d in dialects if d.get("dialect") != capture.get("dialect")]
    for d in other[:MAX_PAIRS]:
        lines.append(f"  but {printable(d['hoa'])} <-> {printable(d['peer'])}: {d['dialect']} ({d['basis']})")
    if len(other) > MAX_PAIRS:
        lines.append(f"  and {len(other) - MAX_PAIRS} more pairs in another dialect "
                     "(mcoaviz export: dialects)")
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
            lines.append(f"{'':43}  [{frame}] {printable(f['message'])}")
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
        from mcoaviz.cli.progress import ProgressBar, wanted

        # findings only: the engine keeps the event kinds the rules read (``history="read"``)
        analysis = analyse(args.capture, AnalysisOptions(dialect=args.dialect, bid_type=args.bid_type,
                                                         history="read"),
                           ProgressBar() if wanted(args) else None)
    except (CaptureSourceError, OSError) as exc:
        print(f"mcoaviz check: error: {exc}", file=sys.stderr)
        return 2
    analysis = restrict(analysis, Query(rows))  # --hoa/--coa/--node/--bid: only the findings shown
    unreadable = getattr(analysis, "unreadable", None)
    if unreadable:
        print(f"mcoaviz check: error: cannot read {args.capture}: {unreadable}", file=sys.stderr)
        return 2
    # capture problems are reported whatever --select says: they limit what every rule could see
    findings = capture_findings(analysis.problems) + [
        f for f in analysis.findings if not prefixes or f["rule"].startswith(prefixes)]
    if args.wireshark:
        from mcoaviz.wireshark import WiresharkUnavailable, analysis_second_opinion

        try:
            findings += analysis_second_opinion(args.capture, analysis, args.bid_type)
        except WiresharkUnavailable as exc:
            print(f"mcoaviz check: error: {exc}", file=sys.stderr)
            return 2
    groups = group_findings(findings)
    if args.json:
        json.dump({"capture": analysis.capture, "dialects": analysis.dialects, "findings": findings,
                   "groups": [{k: v for k, v in g.items() if k != "findings"} for g in groups]},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        writer = Writer(sys.stdout, wants_colour(sys.stdout, args.no_color))
        write_text(render_text(groups, analysis.capture, analysis.dialects), writer)
    from mcoaviz.cli.analyse import stopped_status

    if stopped_status(analysis, "check"):
        return 2
    threshold = SEVERITY_RANK[args.fail_on]
    return 1 if any(SEVERITY_RANK[f["severity"]] >= threshold for f in findings) else 0
