"""`mcoaviz tui CAPTURE`: the terminal UI on a capture file (analysed in a worker while it draws)."""

from __future__ import annotations

import argparse
import sys

from mcoaviz.sources import CaptureSourceError, open_capture

NAME = "tui"
HEAD_BYTES = 4096  # enough to recognise pcap / pcapng
HELP = "Browse a capture's binding state over time in a terminal UI (Textual)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mcoaviz.cli.decode import add_dialect_arguments

    parser.add_argument("capture", metavar="CAPTURE", help="pcap or pcapng file")
    add_dialect_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from mcoaviz.cli.export import options_from

    if args.capture == "-":
        print("mcoaviz tui: reads a file (standard input is the terminal); use 'mcoaviz live' "
              "or 'mcoaviz analyse -' for a pipe", file=sys.stderr)
        return 2
    try:  # a clear one-line error before the screen takes over
        with open_capture(args.capture) as source:
            head = source.parser
            with open(args.capture, "rb") as f:
                start = f.read(HEAD_BYTES)
            head.feed(start)
            problems = head.problems + (head.close() if len(start) < HEAD_BYTES else [])
            if head.format is None and problems:
                print(f"mcoaviz tui: cannot read {args.capture}: {problems[0].reason}", file=sys.stderr)
                return 2
    except (CaptureSourceError, OSError) as exc:
        print(f"mcoaviz tui: {exc}", file=sys.stderr)
        return 2
    from mcoaviz.tui.app import McoaApp
    from mcoaviz.tui.ingest import ingest_file
    from mcoaviz.tui.session import Session

    session = Session(options_from(args), name=args.capture)
    app = McoaApp(session, lambda s, stop: ingest_file(s, args.capture, stop))
    app.run()
    if session.error and session.final is None:
        print(f"mcoaviz tui: {session.error}", file=sys.stderr)
        return 2
    return 0
