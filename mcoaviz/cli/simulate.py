"""`mcoaviz simulate`: scenario captures with ground truth, and the scale mode.

mcoaviz simulate --list
mcoaviz simulate SCENARIO -o FILE.pcapng [--seed N] [--dialect rfc5648|draft05] [--esp|--no-esp]
mcoaviz simulate --all -o FOLDER            (every sample capture + README.md)
mcoaviz simulate scale --mobile-nodes N --coas M --duration S --rate PPS -o big.pcapng
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from mcoaviz.outfile import OutputError

MAX_SNAPLEN = 262_144  # as dumpcap; mcoaviz.simulate.scale checks the same bound
MAX_MOBILE_NODES = 1_000_000
MAX_COAS = 64

NAME = "simulate"
HELP = "Simulate an MCoA scenario into a pcapng capture with its ground truth (NAME.truth.json)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mcoaviz.cli.decode import bid_type

    parser.add_argument(
        "scenario",
        nargs="?",
        metavar="SCENARIO",
        help="scenario name (see --list), or 'scale' for a large benchmark capture",
    )
    parser.add_argument("-o", "--output", metavar="PATH", help="capture file (or folder with --all)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--all", action="store_true", help="write every sample capture into the -o folder")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--dialect",
        choices=("rfc5648", "draft05"),
        default="rfc5648",
        help="BID option dialect the nodes speak (default rfc5648)",
    )
    parser.add_argument(
        "--bid-type",
        type=bid_type,
        default=35,
        metavar="N",
        help="option type of the Binding Identifier (default 35; the draft says TBD)",
    )
    esp = parser.add_mutually_exclusive_group()
    esp.add_argument(
        "--esp", dest="esp", action="store_true", default=None, help="protect MN-HA signalling with ESP-NULL"
    )
    esp.add_argument("--no-esp", dest="esp", action="store_false", help="plain MN-HA signalling")
    scale = parser.add_argument_group("scale mode (SCENARIO = scale)")
    scale.add_argument("--mobile-nodes", type=int, default=100, metavar="N")
    scale.add_argument("--coas", type=int, default=3, metavar="M", help="care-of addresses per mobile node")
    scale.add_argument("--duration", type=float, default=60.0, metavar="S", help="seconds of traffic")
    scale.add_argument("--rate", type=float, default=10000.0, metavar="PPS", help="packets per second")
    scale.add_argument(
        "--snaplen", type=int, default=0, metavar="BYTES", help="bytes kept per frame (0: whole frames)"
    )


def _fail(message: str) -> int:
    print(f"mcoaviz simulate: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from dissector.codepoints import Dialect
    from mcoaviz.simulate.scenarios import load_all
    from mcoaviz.simulate.scenarios import run as run_scenario

    scenarios = load_all()
    if args.list:
        width = max(len(name) for name in scenarios)
        for name, spec in sorted(scenarios.items()):
            dialects = "mixed" if spec.mixed else ",".join(d.value for d in spec.dialects)
            note = "" if spec.sample else "  (not in sample-captures/)"
            print(f"{name:<{width}}  {spec.section:<28}  [{dialects}]  {spec.title}{note}")
        return 0
    if args.all:
        if not args.output:
            return _fail("--all needs -o FOLDER")
        from mcoaviz.simulate.samples import write_all

        try:
            written = write_all(Path(args.output))
        except OutputError as exc:
            return _fail(str(exc))
        except OSError as exc:
            return _fail(f"cannot write into {args.output}: {exc.strerror or exc}")
        for path in written:
            print(path)
        return 0
    if not args.scenario:
        return _fail("give a SCENARIO (see --list), 'scale', or --all")
    if not args.output:
        return _fail("-o FILE.pcapng is required")
    if args.scenario == "scale":
        return _scale(args)
    if args.scenario not in scenarios:
        return _fail(f"unknown scenario {args.scenario!r} (see --list)")
    result = run_scenario(
        args.scenario, seed=args.seed, dialect=Dialect(args.dialect), esp=args.esp, bid_type=args.bid_type
    )
    from mcoaviz.simulate.samples import write_capture

    path = Path(args.output)
    try:
        write_capture(result, path)
    except OutputError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write {path}: {exc.strerror or exc}")
    frames = result.truth["capture"]["frames"]
    print(f"{path}: {frames} frames, truth in {path.name.removesuffix('.pcapng')}.truth.json")
    return 0


def _scale(args: argparse.Namespace) -> int:
    if args.mobile_nodes < 1 or args.coas < 1 or args.duration <= 0 or args.rate <= 0:
        return _fail("--mobile-nodes, --coas, --duration and --rate must be positive")
    # memory grows with the nodes and CoAs (flow templates), not with the packets: bound those
    if args.mobile_nodes > MAX_MOBILE_NODES or args.coas > MAX_COAS:
        return _fail(f"--mobile-nodes is at most {MAX_MOBILE_NODES} and --coas at most {MAX_COAS}")
    if not 0 <= args.snaplen <= MAX_SNAPLEN:
        return _fail(f"--snaplen must be between 0 (whole frames) and {MAX_SNAPLEN}")
    if not math.isfinite(args.duration * args.rate):
        return _fail("--duration and --rate must be finite numbers")
    from mcoaviz.simulate.scale import write_scale_capture

    try:
        count = write_scale_capture(
            args.output,
            args.mobile_nodes,
            args.coas,
            args.duration,
            args.rate,
            args.seed,
            snaplen=args.snaplen,
        )
    except OutputError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write {args.output}: {exc.strerror or exc}")
    print(f"{args.output}: {count} packets")
    return 0
