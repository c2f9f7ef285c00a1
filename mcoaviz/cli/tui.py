"""`mcoaviz tui CAPTURE`: the terminal UI on a capture file (analysed in a worker while it draws)."""

from __future__ import annotations

import argparse
import sys

from mcoaviz.sources import CaptureSourceError, open_capture

NAME = "tui"
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
    try:
        with open_capture(args.capture):  # a clear one-line error before the screen takes over
            pass
    except CaptureSourceError as exc:
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
