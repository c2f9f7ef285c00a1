"""`mcoaviz export CAPTURE --format json|csv [-o PATH]`: the analysis as data.

JSON is one object (to stdout, or to PATH); CSV is a folder with one file per table (PATH, default
CAPTURE's name with ``.csv.d``). Keys follow the export contract in docs/architecture.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
from pathlib import Path

from dissector.codepoints import DSMIPV6_UDP_PORT
from mcoaviz.cli import query_options
from mcoaviz.export import write_csv_folder, write_json
from mcoaviz.outfile import OutputError, atomic_file, atomic_folder
from mcoaviz.pipeline import Analysis, AnalysisOptions, analyse
from mcoaviz.sources import CaptureSourceError

NAME = "export"
HELP = "Export messages, bindings, BULs, traffic and findings as JSON or CSV."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mcoaviz.cli.decode import add_dialect_arguments
    from mcoaviz.cli.progress import add_quiet_argument

    parser.add_argument("capture", metavar="CAPTURE", help="pcap or pcapng file, or - for stdin")
    parser.add_argument("--format", choices=("json", "csv"), default="json", help="output format")
    parser.add_argument("-o", "--output", metavar="PATH",
                        help="JSON file (default stdout) or CSV folder (default CAPTURE.csv.d)")
    query_options.add_filter_arguments(parser)
    query_options.add_window_arguments(parser)
    parser.add_argument("--no-checker", action="store_true", help="skip the conformance checker")
    add_dialect_arguments(parser)
    add_quiet_argument(parser)
    parser.add_argument("--udp-port", type=int, action="append", metavar="N",
                        help=f"DSMIPv6 UDP encapsulation port (default {DSMIPV6_UDP_PORT}; repeatable)")


def options_from(args: argparse.Namespace) -> AnalysisOptions:
    ports = getattr(args, "udp_port", None)
    return AnalysisOptions(dialect=args.dialect, bid_type=args.bid_type,
                           run_checker=not getattr(args, "no_checker", False),
                           udp_ports=frozenset(ports) if ports else frozenset({DSMIPV6_UDP_PORT}))


def load(args: argparse.Namespace, *, stream: bool = False) -> Analysis | None:
    """Run the analysis; on unreadable input print one line to stderr and return None.
    ``stream``: the analysis keeps its tables compact (``AnalysisOptions.stream``: message rows
    on disk) for a command that only writes or counts them.
    What the output filters and --at / --between ask (when the command has them) restricts the
    result (mcoaviz.query); a bad value is a one-line error before the capture is read."""
    from mcoaviz.query import QueryError, restrict
    from mcoaviz.rowspool import SpoolError

    command = getattr(args, "command", None) or NAME
    try:
        from mcoaviz.cli.progress import ProgressBar, wanted

        asked = query_options.requested(args)
        # a command that only writes or counts the tables keeps of the engine's history only the
        # kinds its checker and tables read; --at rebuilds the state at an instant from all kinds
        history = "read" if stream and asked.at is None else "all"
        options = dataclasses.replace(options_from(args), stream=stream, history=history)
        analysis = analyse(args.capture, options, ProgressBar() if wanted(args) else None)
        # the analysis lives until the command ends: spare its millions of objects the automatic
        # collector's full scans while the tables are built and written (~0.2 s per 200 k packets)
        gc.freeze()
        return restrict(analysis, asked.query(analysis.capture.get("first_time")))
    except CaptureSourceError as exc:
        print(f"mcoaviz {command}: {exc}", file=sys.stderr)
    except QueryError as exc:
        print(f"mcoaviz {command}: error: {exc}", file=sys.stderr)
    except SpoolError as exc:
        print(f"mcoaviz {command}: {exc}", file=sys.stderr)
    return None


def run(args: argparse.Namespace) -> int:
    analysis = load(args, stream=True)
    if analysis is None:
        return 2
    if analysis.unreadable:
        print(f"mcoaviz export: cannot read {args.capture}: {analysis.unreadable}", file=sys.stderr)
        return 2
    to_file = args.format == "csv" or (args.output and args.output != "-")
    target = args.output if to_file else "standard output"
    if args.format == "csv":
        target = args.output or (Path(args.capture).name + ".csv.d")
    try:
        if args.format == "json":
            if to_file:
                with atomic_file(args.output) as out:
                    write_json(analysis, out)
            else:
                write_json(analysis, sys.stdout)
                sys.stdout.flush()
        else:
            with atomic_folder(target) as folder:
                written = write_csv_folder(analysis, folder)
            print(f"wrote {len(written)} tables to {target}", file=sys.stderr)
    except OutputError as exc:
        print(f"mcoaviz export: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `| head`: the reader has what it wanted (handled by mcoaviz.cli.main)
        raise
    except OSError as exc:
        print(f"mcoaviz export: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    from mcoaviz.cli.analyse import stopped_status

    return stopped_status(analysis, "export")
