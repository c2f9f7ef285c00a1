"""`mcoaviz decode CAPTURE`: the Mobility Header messages of a capture, like Wireshark's packet list.

-V prints a detail tree per message, --json a list of message records (mcoaviz/messages.py).
With --dialect auto, decoded messages wait until the dialect detector decides (or the input
ends), then are re-read in that dialect; which dialect and why goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from dissector.codepoints import DSMIPV6_UDP_PORT, Dialect
from dissector.decode import DecodeOptions, decode_frame
from dissector.dialect import DialectDetector, with_dialect
from dissector.fragments import Reassembler
from dissector.records import Frame, Packet
from mcoaviz.cli.decode_view import detail_lines, summary_line
from mcoaviz.messages import message_row
from mcoaviz.sources import CaptureSourceError, open_capture

NAME = "decode"
HELP = "List the Mobility Header messages of a capture (-V details, --json records)."

HOLD_LIMIT = 10_000  # messages held while the dialect is undecided; then RFC 5648 is assumed


def add_dialect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dialect", choices=("auto", "rfc5648", "draft05"), default="auto",
                        help="how to read Binding Identifier flags (default: auto, decided per capture)")
    parser.add_argument("--bid-type", type=int, default=35, metavar="N",
                        help="mobility option type of the Binding Identifier (default 35)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("capture", metavar="CAPTURE", help="pcap or pcapng file, or - for stdin")
    parser.add_argument("-V", dest="verbose", action="store_true", help="print a detail tree per message")
    parser.add_argument("--json", action="store_true", help="print a JSON list of message records")
    add_dialect_arguments(parser)
    parser.add_argument("--udp-port", type=int, action="append", metavar="N",
                        help=f"DSMIPv6 UDP encapsulation port (default {DSMIPV6_UDP_PORT}; repeatable)")
    from mcoaviz.cli import query_options

    query_options.add_time_format_argument(parser)
    query_options.add_filter_arguments(parser)


def decode_options(args: argparse.Namespace, dialect: Dialect = Dialect.RFC5648) -> DecodeOptions:
    ports = frozenset(args.udp_port) if getattr(args, "udp_port", None) else frozenset({DSMIPV6_UDP_PORT})
    return DecodeOptions(dialect=dialect, bid_type=args.bid_type, udp_ports=ports)


def whole_packets(frames: Iterable[Frame], options: DecodeOptions, report: TextIO) -> Iterator[Packet]:
    """Decoded frames; IPv6 fragments are held and their datagram is decoded when complete
    (numbered like the completing frame, as in Wireshark)."""
    reassembler = Reassembler()
    for frame in frames:
        packet = decode_frame(frame, options)
        if not packet.fragment or not reassembler.is_fragment(frame):  # IPv4 fragments stay as they are
            yield packet
            continue
        whole = reassembler.offer(frame)
        if whole is not None:
            yield decode_frame(whole, options)
    if reassembler.pending or reassembler.dropped:
        print(f"mcoaviz decode: warning: {reassembler.pending + reassembler.dropped} fragmented "
              "datagram(s) could not be reassembled", file=report)


def mobility_packets(frames: Iterable[Frame], options: DecodeOptions, dialect_arg: str,
                     report: TextIO) -> Iterator[Packet]:
    """Decoded packets carrying a Mobility Header, in the chosen or detected dialect."""
    if dialect_arg != "auto":
        fixed = DecodeOptions(Dialect(dialect_arg), options.bid_type, options.udp_ports)
        for packet in whole_packets(frames, fixed, report):
            if packet.mobility is not None:
                yield packet
        return
    detector = DialectDetector(options.bid_type)
    held: list[Packet] = []
    decided: Dialect | None = None
    for packet in whole_packets(frames, options, report):
        if packet.mobility is None:
            continue
        if decided is not None:
            yield with_dialect(packet, decided)
            continue
        detector.observe(packet)
        held.append(packet)
        dialect, reason = detector.decision()
        if dialect is None and len(held) >= HOLD_LIMIT:
            dialect, reason = Dialect.RFC5648, f"no decisive evidence in the first {HOLD_LIMIT} messages"
        if dialect is not None:
            decided = dialect
            print(f"dialect: {dialect.value} ({reason})", file=report)
            yield from (with_dialect(p, dialect) for p in held)
            held.clear()
    if decided is None and held:
        dialect, reason = detector.final()
        print(f"dialect: {dialect.value} ({reason})", file=report)
        yield from (with_dialect(p, dialect) for p in held)


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
    out = sys.stdout
    with source:
        first: list[float] = []

        def frames() -> Iterator[Frame]:
            for frame in source.frames():
                if not first:
                    first.append(frame.time)  # times are relative to the first frame, like Wireshark
                    times.first_time = frame.time
                yield frame

        packets = mobility_packets(frames(), decode_options(args), args.dialect, sys.stderr)
        if asked.rows.active:  # only the messages the filters ask for are listed
            packets = (p for p in packets if asked.rows.message(message_row(p)))
        count = 0
        if args.json:
            out.write("[")
        try:
            for packet in packets:
                if args.json:
                    out.write(("\n  " if count == 0 else ",\n  ") + json.dumps(message_row(packet)))
                else:
                    out.write(summary_line(packet, first[0], times.point(packet.time)) + "\n")
                    if args.verbose:
                        out.write("".join(line + "\n" for line in detail_lines(packet)))
                count += 1
        except CaptureSourceError as exc:
            print(f"mcoaviz decode: {exc}", file=sys.stderr)
            return 2
        if args.json:
            out.write("\n]\n" if count else "]\n")
        errors = [p for p in source.problems if p.severity == "error"]
        if errors and source.format is None:
            print(f"mcoaviz decode: cannot read {source.name}: {errors[0].reason}", file=sys.stderr)
            return 2
        for problem in source.problems:
            print(f"mcoaviz decode: warning: {problem.reason} (offset {problem.offset})", file=sys.stderr)
    return 0
