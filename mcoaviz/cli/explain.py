"""`mcoaviz explain CAPTURE --hoa H [--bid B]`: how each binding of one home address was read.

Every step that created, changed and ended a binding (at every home agent and correspondent
node), with its frames, the draft/RFC rule that applied and the interpretation I-n taken where
the texts disagree (``mcoaviz.query.explain``). Exit codes: 0 explained, 2 the capture cannot be
read, the arguments are wrong, or the capture has no binding of that home address / BID (the
message lists what exists).
"""

from __future__ import annotations

import argparse
import json
import sys

from mcoaviz.safetext import printable

NAME = "explain"
HELP = "Explain how each binding of one home address was read: steps, frames, rules, interpretations."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("capture", metavar="CAPTURE", help="pcap or pcapng file, or - for stdin")
    parser.add_argument("--hoa", required=True, action="append", metavar="H",
                        help="home address (or prefix) whose bindings to explain")
    parser.add_argument("--bid", action="append", metavar="B",
                        help="only this Binding Identifier ('none': the regular binding); repeatable")
    parser.add_argument("--json", action="store_true", help="print the steps as JSON")
    from mcoaviz.cli import query_options
    from mcoaviz.cli.decode import add_dialect_arguments
    from mcoaviz.cli.progress import add_quiet_argument

    query_options.add_time_format_argument(parser)
    add_dialect_arguments(parser)
    add_quiet_argument(parser)


def _bid_text(bid: int | None) -> str:
    return "none" if bid is None else str(bid)


def _what_exists(known: dict[str, set[int | None]]) -> str:
    if not known:
        return "the capture has no binding at all"
    def bids_of(bids: set[int | None]) -> str:
        return ", ".join(_bid_text(b) for b in sorted(bids, key=lambda b: -1 if b is None else b))

    listed = "; ".join(f"{hoa} (BIDs {bids_of(bids)})" for hoa, bids in sorted(known.items()))
    return f"home addresses with bindings: {listed}"


def run(args: argparse.Namespace) -> int:
    from mcoaviz.pipeline import AnalysisOptions, analyse
    from mcoaviz.query import QueryError, RowFilter, TimeFormat, time_format_name
    from mcoaviz.query.explain import known_bindings, render, stories
    from mcoaviz.sources import CaptureSourceError

    try:
        rows = RowFilter.parse(args.hoa, (), (), args.bid or ())
        time_format = time_format_name(args.time_format)
    except QueryError as exc:
        print(f"mcoaviz explain: error: {exc}", file=sys.stderr)
        return 2
    try:
        from mcoaviz.cli.progress import ProgressBar, wanted

        analysis = analyse(args.capture, AnalysisOptions(dialect=args.dialect, bid_type=args.bid_type,
                                                         run_checker=False),
                           ProgressBar() if wanted(args) else None)
    except (CaptureSourceError, OSError) as exc:
        print(f"mcoaviz explain: error: {exc}", file=sys.stderr)
        return 2
    if analysis.unreadable:
        print(f"mcoaviz explain: error: cannot read {args.capture}: {analysis.unreadable}", file=sys.stderr)
        return 2
    found = stories(analysis.events, rows.hoas, rows.bids)
    if not found:
        asked = " ".join(args.hoa) + (f" BID {', '.join(args.bid)}" if args.bid else "")
        print(f"mcoaviz explain: error: no binding of {printable(asked)} in {printable(args.capture)}; "
              f"{_what_exists(known_bindings(analysis.events))}", file=sys.stderr)
        return 2
    if args.json:
        json.dump({"capture": analysis.capture, "bindings": [s.to_dict() for s in found]}, sys.stdout,
                  indent=2)
        sys.stdout.write("\n")
        return 0
    fmt = TimeFormat(time_format, analysis.capture.get("first_time"))
    out: list[str] = [f"{printable(analysis.capture.get('file'))}: dialect {analysis.capture.get('dialect')} "
                      f"({analysis.capture.get('dialect_reason', '')})"]
    for story in found:
        fmt.restart()
        out.append("")
        out.extend(printable(line, limit=0) for line in render(story, fmt.point))
    sys.stdout.write("\n".join(out) + "\n")
    return 0
