"""`mcoaviz analyse CAPTURE`: what happened to the bindings, in plain terminal tables.

Prints the capture summary (frames, interfaces, time span, dialect and why), every node's
binding cache as intervals, every mobile node's binding update list, traffic per CoA, and the
checker's findings grouped by severity. Times are seconds from the first frame unless ``-t``
says otherwise. Filters (``--hoa`` ...), ``--at`` and ``--between`` restrict what is shown
(``mcoaviz.query``); when the tables would not fit on a screen a summary is printed instead,
unless ``--all``. Rendering: ``analyse_view``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from mcoaviz.cli import query_options
from mcoaviz.cli.analyse_view import SCREENFUL, SEVERITY_ORDER, ReportOptions
from mcoaviz.cli.terminal import Writer, wants_colour
from mcoaviz.pipeline import Analysis
from mcoaviz.query import QueryError, TimeFormat
from mcoaviz.safetext import printable

NAME = "analyse"
HELP = "Reconstruct binding caches, binding update lists and per-CoA traffic; list findings."
__all__ = ["NAME", "HELP", "SEVERITY_ORDER", "add_arguments", "run", "report", "table"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mcoaviz.cli.decode import add_dialect_arguments

    parser.add_argument("capture", metavar="CAPTURE", help="pcap or pcapng file, or - for stdin")
    parser.add_argument("--no-checker", action="store_true", help="skip the conformance checker")
    parser.add_argument("--max-findings", type=int, default=50, metavar="N",
                        help="findings listed per severity (default 50; 0 = all)")
    parser.add_argument("--all", dest="show_all", action="store_true",
                        help=f"print every table even above {SCREENFUL} rows (default: a summary then)")
    parser.add_argument("--summary", action="store_true",
                        help="print the summary (top home addresses, busiest CoAs) even for short tables")
    query_options.add_time_format_argument(parser)
    query_options.add_colour_argument(parser)
    add_dialect_arguments(parser)
    query_options.add_filter_arguments(parser)
    query_options.add_window_arguments(parser)
    from mcoaviz.cli.progress import add_quiet_argument

    add_quiet_argument(parser)


def run(args: argparse.Namespace) -> int:
    from mcoaviz.cli.export import load

    try:
        asked = query_options.requested(args)
        if args.show_all and args.summary:
            raise QueryError("--all and --summary cannot be used together")
    except QueryError as exc:
        print(f"mcoaviz analyse: error: {exc}", file=sys.stderr)
        return 2
    analysis = load(args, stream=True)  # restricted to what the filters and --at / --between ask
    if analysis is None:
        return 2
    if analysis.unreadable:
        print(f"mcoaviz analyse: cannot read {args.capture}: {analysis.unreadable}", file=sys.stderr)
        return 2
    from mcoaviz.cli.analyse_view import report as render

    writer = Writer(sys.stdout, wants_colour(sys.stdout, args.no_color))
    render(analysis, writer, asked.time_formatter(analysis.capture.get("first_time")),
           ReportOptions(max_findings=args.max_findings, show_all=args.show_all, summary=args.summary))
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


# ------------------------------------------------------------------ kept for existing callers


def report(analysis: Analysis, out: TextIO, *, max_findings: int = 50) -> None:
    """The full plain-text report with times from the first frame (no summary)."""
    from mcoaviz.cli.analyse_view import report as render

    render(analysis, Writer(out, colour=False), TimeFormat("relative", analysis.capture.get("first_time")),
           ReportOptions(max_findings=max_findings, show_all=True))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> list[str]:
    """Left-aligned text columns (numbers right-aligned), two spaces apart."""
    from mcoaviz.cli.terminal import table as styled_table

    return [text for text, _ in styled_table(headers, rows, indent)]
