"""`mcoaviz decode CAPTURE`: the Mobility Header messages of a capture, like Wireshark's packet list.

-V prints a detail tree per message, --json a list of message records (mcoaviz/messages.py).
It is a view of the analysis pipeline (``Pipeline`` without engine or checker): bulk data is
skipped by the fast classification, IPv6 fragments are reassembled, and with --dialect auto
messages wait until the dialect of their (mobile node, peer) pair is decided (or the input ends),
then are re-read in that dialect, exactly as `analyse` sees them; which dialect and why goes to
stderr: the capture's first, then each pair's before its first message.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from dissector.codepoints import DSMIPV6_UDP_PORT, Dialect
from dissector.decode import DecodeOptions
from dissector.fragments import Reassembler
from dissector.records import Frame, Packet
from mcoaviz.cli.decode_view import detail_lines, summary_line
from mcoaviz.cli.progress import ProgressBar, add_quiet_argument, wanted
from mcoaviz.messages import message_json, message_row
from mcoaviz.pipeline import AnalysisOptions, Pipeline, StepwiseCollector, decode_whole, run_pipeline
from mcoaviz.safetext import printable
from mcoaviz.sources import CaptureSourceError, open_capture

NAME = "decode"
HELP = "List the Mobility Header messages of a capture (-V details, --json records)."

MAX_WARNINGS = 20  # capture problems listed on stderr; the rest are counted
MAX_PAIR_LINES = 20  # (MN, peer) pairs in the capture's dialect listed on stderr; the rest are counted
CHUNK = 1 << 16  # characters of output gathered before one write (a file read whole, not to a terminal)


def bid_type(text: str) -> int:
    """``--bid-type``, the same for every command: a mobility option type that is not padding."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 2 <= value <= 255:
        raise argparse.ArgumentTypeError(f"{value} is not an option type between 2 and 255")
    return value


def add_dialect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dialect", choices=("auto", "rfc5648", "draft05"), default="auto",
                        help="how to read Binding Identifier flags (default: auto, decided per (mobile node, "
                        "peer) pair)")
    parser.add_argument("--bid-type", type=bid_type, default=35, metavar="N",
                        help="mobility option type of the Binding Identifier (default 35)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("capture", metavar="CAPTURE", help="pcap or pcapng file, or - for stdin")
    parser.add_argument("-V", dest="verbose", action="store_true", help="print a detail tree per message")
    parser.add_argument("--json", action="store_true", help="print a JSON list of message records")
    add_dialect_arguments(parser)
    add_quiet_argument(parser)
    parser.add_argument("--udp-port", type=int, action="append", metavar="N",
                        help=f"DSMIPv6 UDP encapsulation port (default {DSMIPV6_UDP_PORT}; repeatable)")
    from mcoaviz.cli import query_options

    query_options.add_time_format_argument(parser)
    query_options.add_filter_arguments(parser)


def decode_options(args: argparse.Namespace, dialect: Dialect = Dialect.RFC5648) -> DecodeOptions:
    ports = frozenset(args.udp_port) if getattr(args, "udp_port", None) else frozenset({DSMIPV6_UDP_PORT})
    return DecodeOptions(dialect=dialect, bid_type=args.bid_type, udp_ports=ports)


def _printable_lines(lines: list[str]) -> str:
    """Each line through ``printable``, newline-terminated. ``printable`` changes only control
    and format characters (all of which ``str.isprintable`` refuses) and backslashes, so lines
    that have none (the usual case) are checked in one pass instead of one call per line; a
    newline inside a line is not printable, so joining without a separator hides nothing."""
    joined = "".join(lines)
    if joined.isprintable() and "\\" not in joined:
        return "\n".join(lines) + "\n"
    return "".join(printable(line, limit=0) + "\n" for line in lines)


class ChunkedOutput:
    """Message text gathered and written ``CHUNK`` characters at a time. One write per message
    costs a system call each when stdout is unbuffered (``PYTHONUNBUFFERED``, ``python -u``):
    about a tenth of `decode --json`'s time on a home agent's capture. ``per_message`` (a
    terminal, or input read from a pipe as it arrives) writes each message at once."""

    __slots__ = ("out", "per_message", "parts", "size")

    def __init__(self, out: TextIO, per_message: bool) -> None:
        self.out, self.per_message = out, per_message
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        if self.per_message:
            self.out.write(text)
            return
        self.parts.append(text)
        self.size += len(text)
        if self.size >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            text = "".join(self.parts)
            self.parts.clear()
            self.size = 0
            self.out.write(text)


def whole_packets(frames: Iterable[Frame], options: DecodeOptions, report: TextIO) -> Iterator[Packet]:
    """Every frame decoded, IPv6 fragments reassembled as the pipeline does (for the oracles)."""
    reassembler = Reassembler()
    for frame in frames:
        packet = decode_whole(frame, options, reassembler)
        if packet is not None:
            yield packet
    if reassembler.pending or reassembler.dropped:
        print(f"mcoaviz decode: warning: {reassembler.pending + reassembler.dropped} fragmented "
              "datagram(s) could not be reassembled", file=report)


def run(args: argparse.Namespace) -> int:
    from mcoaviz.cli.query_options import requested
    from mcoaviz.query import QueryError

    try:
        asked = requested(args)  # -t and the output filters
    except QueryError as exc:
        print(f"mcoaviz decode: error: {exc}", file=sys.stderr)
        return 2
    times = asked.time_formatter(None, digits=6)
    try:
        source = open_capture(args.capture)
    except CaptureSourceError as exc:
        print(f"mcoaviz decode: {exc}", file=sys.stderr)
        return 2
    out = ChunkedOutput(sys.stdout, per_message=not source.seekable_file or _is_terminal(sys.stdout))
    decode = decode_options(args)
    # the analysis pipeline without engine or checker: the same fast classification skips bulk
    # data, the same dialect hold-and-replay and fragment reassembly as `analyse`
    pipeline = Pipeline(AnalysisOptions(dialect=args.dialect, bid_type=decode.bid_type,
                                        udp_ports=decode.udp_ports, run_checker=False,
                                        run_engine=False), name=args.capture)
    count = 0
    announced: set[tuple[str, str]] = set()
    listed_pairs = quiet_pairs = 0  # pairs in the capture's dialect listed / not listed on stderr

    # what every message asks, read once
    filtered, auto, as_json, write = asked.rows.active, args.dialect == "auto", args.json, out.write

    def show(packet: Packet) -> None:
        nonlocal count
        if packet.mobility is None:
            return
        if filtered and not asked.rows.message(message_row(packet)):
            return  # only the messages the filters ask for are listed
        if auto:
            announce_pair(packet)
        if count == 0:
            # times are relative to the first frame, like Wireshark
            times.first_time = pipeline.first_time if pipeline.first_time is not None else packet.time
        if as_json:
            write(("[\n  " if count == 0 else ",\n  ") + message_json(packet, shared_areas=True))
        else:  # every line through printable: option payloads and names come from the capture
            first = times.first_time if times.first_time is not None else packet.time
            lines = [summary_line(packet, first, times.point(packet.time))]
            if args.verbose:
                lines += detail_lines(packet)
            write(_printable_lines(lines))
        count += 1

    def announce_pair(packet: Packet) -> None:
        """Before a pair's first message: the capture's dialect (once), then the pair's and why."""
        nonlocal quiet_pairs, listed_pairs
        if not announced:
            print(f"dialect: {pipeline.dialect.value if pipeline.dialect else '?'} "
                  f"({printable(pipeline.dialect_reason)})", file=sys.stderr)
        pair = pipeline.pairs.pair_of(packet)
        if pair in announced:  # the usual case: the pair's messages after its first
            return
        state = pipeline.pairs.pairs.get(pair) if pair is not None else None
        if pair is None or state is None:
            announced.add(("", ""))
            return
        announced.add(pair)
        if state.dialect == pipeline.dialect:
            if listed_pairs >= MAX_PAIR_LINES:  # a home agent's thousands of pairs: only those that differ
                quiet_pairs += 1
                return
            listed_pairs += 1
        print(f"dialect of {printable(pair[0])} <-> {printable(pair[1])}: "
              f"{state.dialect.value if state.dialect else '?'} ({state.basis}: {printable(state.reason)})",
              file=sys.stderr)

    pipeline.listener = show
    # the collector in steps, as `analyse` does: the fast path's flow tables are hundreds of
    # thousands of long-lived objects that automatic full collections would scan again and again
    with source, StepwiseCollector() as collector:
        pipeline.collector = collector
        try:
            run_pipeline(pipeline, source, ProgressBar() if wanted(args) else None)
        except CaptureSourceError as exc:
            out.flush()  # the messages before the error, as they would have been written
            print(f"mcoaviz decode: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            out.flush()  # what was decoded before the interrupt is shown, as a buffered stdout would
            raise
        if args.json:
            out.write("\n]\n" if count else "[]\n")
        out.flush()
        if quiet_pairs:
            print(f"dialect: {quiet_pairs} more (mobile node, peer) pairs in "
                  f"{pipeline.dialect.value if pipeline.dialect else '?'} not listed "
                  "(`mcoaviz export` has every pair in its dialects table)", file=sys.stderr)
        lost = pipeline.reassembler.pending + pipeline.reassembler.dropped
        if lost:
            print(f"mcoaviz decode: warning: {lost} fragmented datagram(s) could not be reassembled",
                  file=sys.stderr)
        problems = source.problems
        # nothing readable (not a capture, or input that ends inside its header): as analyse does
        if problems and not pipeline.frames and (source.format is None or problems[0].layer == "capture"):
            print(f"mcoaviz decode: cannot read {printable(source.name)}: {problems[0].reason}",
                  file=sys.stderr)
            return 2
        fatal = source.parser.fatal
        if fatal is not None:  # messages before it were shown; reading stopped there
            print(f"mcoaviz decode: error: reading stopped at byte {fatal.offset}: "
                  f"{printable(fatal.reason)}", file=sys.stderr)
            return 2
        for problem in problems[:MAX_WARNINGS]:
            print(f"mcoaviz decode: warning: {printable(problem.reason)} (offset {problem.offset})",
                  file=sys.stderr)
        total = getattr(problems, "total", len(problems))
        if total > MAX_WARNINGS:
            print(f"mcoaviz decode: warning: {total - MAX_WARNINGS} more capture problems not listed",
                  file=sys.stderr)
    return 0


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream: no terminal
        return False
