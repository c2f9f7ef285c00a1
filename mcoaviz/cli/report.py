"""`mcoaviz report CAPTURE -o report.html [--hoa H ...] [--png DIR]`: the HTML timeline report.

One self-contained, offline HTML file (mcoaviz/report/): summary, overview over time, home
address index, per home address timeline / traffic / ladder / latencies, topology, findings.
``--hoa`` restricts the index and details to some home addresses (an address or a prefix such as
2001:db8:1::/64, repeatable); ``--png DIR`` also writes static images through kaleido.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mcoaviz.pipeline import Analysis

NAME = "report"
HELP = "Write a self-contained HTML timeline report (bindings, traffic, ladder, latencies, findings)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from dissector.codepoints import DSMIPV6_UDP_PORT
    from mcoaviz.cli.decode import add_dialect_arguments

    parser.add_argument("capture", metavar="CAPTURE", help="pcap or pcapng file, or - for stdin")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="HTML file to write (default: CAPTURE's name with .html, in this folder)")
    parser.add_argument("--hoa", action="append", metavar="H",
                        help="only this home address, or prefix like 2001:db8:1::/64 (repeatable)")
    parser.add_argument("--png", metavar="DIR",
                        help="also write PNG images of the overview, the topology and each --hoa (without "
                             "--hoa: the 20 with most bindings); needs mcoaviz[png] and Chromium")
    parser.add_argument("--no-checker", action="store_true", help="skip the conformance checker")
    parser.add_argument("--wireshark", action="store_true",
                        help="add Wireshark's opinion of the Mobility Header frames to the findings "
                             "(as mcoaviz check --wireshark; needs tshark)")
    add_dialect_arguments(parser)
    parser.add_argument("--udp-port", type=int, action="append", metavar="N",
                        help=f"DSMIPv6 UDP encapsulation port (default {DSMIPV6_UDP_PORT}; repeatable)")


def select_hoas(analysis: Analysis, wanted: list[str]) -> list[str]:
    """Home addresses of the analysis matching any of ``wanted`` (addresses or prefixes).
    Raises ValueError with a one-line message for a malformed value or no match."""
    from mcoaviz.query.filters import QueryError, address_in, parse_network

    networks = []
    for value in wanted:
        try:
            networks.append(parse_network(value))
        except QueryError:
            raise ValueError(f"--hoa {value!r} is not an IP address or prefix") from None
    known = {row["hoa"] for table in (analysis.bindings, analysis.bul, analysis.traffic) for row in table}
    known |= {m["hoa"] for m in analysis.messages if m.get("hoa")}
    chosen = [hoa for hoa in sorted(known) if address_in(tuple(networks), hoa)]
    if not chosen:
        raise ValueError(f"no home address in the capture matches {', '.join(wanted)} "
                         f"({len(known)} home address(es) seen)")
    return chosen


def load(args: argparse.Namespace) -> Analysis | None:
    """The analysis (with a progress bar on a terminal); None after a one-line error."""
    from mcoaviz.cli.export import options_from
    from mcoaviz.cli.progress import analyse_with_progress
    from mcoaviz.sources import CaptureSourceError

    try:
        return analyse_with_progress(args.capture, options_from(args))
    except CaptureSourceError as exc:
        print(f"mcoaviz report: {exc}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    from mcoaviz.report import build_model, write_report

    output = Path(args.output) if args.output else Path(Path(args.capture).name + ".html")
    if args.capture == "-" and not args.output:
        output = Path("report.html")
    analysis = load(args)
    if analysis is None:
        return 2
    if analysis.unreadable:
        print(f"mcoaviz report: cannot read {args.capture}: {analysis.unreadable}", file=sys.stderr)
        return 2
    if args.wireshark:
        from mcoaviz.wireshark import WiresharkUnavailable, analysis_second_opinion

        try:  # the same findings as `mcoaviz check --wireshark`, shown with the report's own
            analysis.findings = analysis.findings + analysis_second_opinion(args.capture, analysis,
                                                                            args.bid_type)
        except WiresharkUnavailable as exc:
            print(f"mcoaviz report: error: {exc}", file=sys.stderr)
            return 2
    try:
        hoas = select_hoas(analysis, args.hoa) if args.hoa else None
    except ValueError as exc:
        print(f"mcoaviz report: {exc}", file=sys.stderr)
        return 2
    model = build_model(analysis, hoas)
    try:
        write_report(analysis, output, hoas, model)
    except OSError as exc:
        print(f"mcoaviz report: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    size = output.stat().st_size
    print(f"wrote {output} ({size / 1e6:.1f} MB, {len(model['hoas'])} home address(es))", file=sys.stderr)
    if args.png:
        from mcoaviz.report.png import PngUnavailable, write_pngs

        try:
            written = write_pngs(model, args.png, hoas)
        except (PngUnavailable, OSError) as exc:
            print(f"mcoaviz report: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {len(written)} PNG image(s) to {args.png}", file=sys.stderr)
    return 0
