"""Throughput benchmark: mcoaviz read + classify + decode against tshark on one big capture.

Writes (or reuses) a scale-mode capture of >= 1 M packets under benchmarks/data/, then prints,
in one run:

* scale-mode write speed (packets/s);
* read only: ``CaptureParser.records`` over the memory-mapped file;
* mcoaviz read + classify + decode: ``CaptureSource.records`` -> ``FastPath.filter`` ->
  ``decode_frame`` for every record the fast path declines, with ``flush()`` before each of
  them -- what ``Pipeline.feed_records`` does before the engine -- once with the C
  accelerator (``dissector._fastscan``, when built) and once pure Python
  (``MCOAVIZ_PURE_PYTHON=1``);
* optionally (``--pipeline``) the whole analysis (``mcoaviz.pipeline.analyse``: engine and
  checker included);
* ``tshark -T fields -e frame.number -e mip6.mhtype`` on the same file.

Speeds depend on the machine and on its load: the load average and a pure-Python loop
calibration are printed alongside, the mcoaviz timings are the best of ``--repeat`` runs, and
CPU-time rates are shown next to wall-clock ones. This is a benchmark, not a test: nothing
here asserts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dissector.capture import record_to_frame  # noqa: E402
from dissector.decode import DecodeOptions, decode_frame  # noqa: E402
from dissector.fastpath import PURE_PYTHON_VARIABLE, FastPath, accelerated  # noqa: E402
from mcoaviz.simulate.scale import write_scale_capture  # noqa: E402
from mcoaviz.sources import open_capture  # noqa: E402

DATA = ROOT / "benchmarks" / "data"


def calibration() -> float:
    """Millions of empty Python loop iterations per second (how fast this machine is now)."""
    start = time.perf_counter()
    for _ in range(5_000_000):
        pass
    return 5 / (time.perf_counter() - start)


def write_capture(args: argparse.Namespace) -> tuple[Path, float | None]:
    path = DATA / (
        f"scale-{args.mobile_nodes}mn-{args.coas}coa-{args.packets}p-snap{args.snaplen}-seed{args.seed}.pcapng"
    )
    duration = args.packets / args.rate
    if path.exists() and args.reuse:
        # still measure the writer, on a smaller file
        sample = DATA / "write-sample.pcapng"
        start = time.perf_counter()
        count = write_scale_capture(
            sample, args.mobile_nodes, args.coas, 10.0, 20_000, args.seed, snaplen=args.snaplen
        )
        speed = count / (time.perf_counter() - start)
        sample.unlink()
        return path, speed
    DATA.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    count = write_scale_capture(
        path, args.mobile_nodes, args.coas, duration, args.rate, args.seed, snaplen=args.snaplen
    )
    return path, count / (time.perf_counter() - start)


def read_only(path: Path) -> tuple[int, float, float]:
    """(packets, wall seconds, CPU seconds)."""
    with open_capture(path) as source:
        start, cpu = time.perf_counter(), time.process_time()
        count = sum(1 for _ in source.records())
        return count, time.perf_counter() - start, time.process_time() - cpu


def mcoaviz_path(path: Path, pure: bool) -> tuple[int, int, int, int, float, float]:
    """(packets, fast-path packets, of which by the C accelerator, decoded packets, wall
    seconds, CPU seconds); ``pure``: with MCOAVIZ_PURE_PYTHON=1."""
    os.environ[PURE_PYTHON_VARIABLE] = "1" if pure else "0"
    options = DecodeOptions()
    fast = FastPath(options)
    decoded = rows = 0
    with open_capture(path) as source:
        start, cpu = time.perf_counter(), time.process_time()
        for record in fast.filter(source.records()):
            rows += len(fast.flush())
            decode_frame(record_to_frame(record), options)
            decoded += 1
        rows += len(fast.flush())
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    os.environ.pop(PURE_PYTHON_VARIABLE)
    return fast.accepted + decoded, fast.accepted, fast.accelerated, decoded, elapsed, cpu


def best(runs: list[tuple]) -> tuple:
    """The run with the least wall time (the least disturbed by other processes)."""
    return min(runs, key=lambda r: r[-2])


def pipeline(path: Path) -> tuple[int, float]:
    from mcoaviz.pipeline import analyse

    start = time.perf_counter()
    analysis = analyse(path)
    return int(analysis.capture["frames"]), time.perf_counter() - start


def tshark(path: Path) -> tuple[int, float] | None:
    exe = shutil.which("tshark")
    if exe is None:
        return None
    start = time.perf_counter()
    proc = subprocess.run(
        [exe, "-r", str(path), "-T", "fields", "-e", "frame.number", "-e", "mip6.mhtype"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    return proc.stdout.count(b"\n"), elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--mobile-nodes", type=int, default=200)
    parser.add_argument("--coas", type=int, default=3)
    parser.add_argument(
        "--rate", type=float, default=20_000.0, help="capture packet rate (sets the duration)"
    )
    parser.add_argument("--snaplen", type=int, default=0, help="bytes kept per frame (0 = whole frames)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="reuse the capture if it exists")
    parser.add_argument("--capture", type=Path,
                        help="measure this capture instead of a scale-mode one (e.g. a homeagent.py capture)")
    parser.add_argument("--no-tshark", action="store_true")
    parser.add_argument("--pipeline", action="store_true", help="also time the whole analysis")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the mcoaviz timings; the best is shown"
    )
    args = parser.parse_args()

    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs, "
          f"Python loop calibration {calibration():.1f} M empty iterations/s")  # fmt: skip
    path, write_speed = (args.capture.absolute(), None) if args.capture else write_capture(args)
    size_mb = path.stat().st_size / 1e6
    print(f"capture: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({size_mb:.0f} MB)")
    if write_speed is not None:
        print(f"{'scale-mode write':<44} {write_speed:>12,.0f} packets/s")

    count, elapsed, cpu = best([read_only(path) for _ in range(args.repeat)])
    print(
        f"{'read only (CaptureParser.records)':<44} {count / elapsed:>12,.0f} packets/s  "
        f"(CPU time: {count / cpu:,.0f}/s; {count:,} packets)"
    )
    modes = [("C accelerator", False), ("pure Python", True)] if accelerated() else [("pure Python", True)]
    if not accelerated():
        print("C accelerator: not built (pip install -e . with a C compiler builds dissector._fastscan)")
    for label, pure in modes:
        runs = [mcoaviz_path(path, pure) for _ in range(args.repeat)]
        total, fast, in_c, decoded, elapsed, cpu = best(runs)
        print(
            f"{'mcoaviz read+classify+decode, ' + label:<44} {total / elapsed:>12,.0f} packets/s  "
            f"(CPU time: {total / cpu:,.0f}/s; {fast:,} fast path = {100 * fast / max(total, 1):.1f} %"
            f"{f' ({100 * in_c / max(fast, 1):.1f} % of it in C)' if in_c else ''}, {decoded:,} decoded)"
        )
    if args.pipeline:
        frames, elapsed = pipeline(path)
        print(f"{'mcoaviz whole analysis (pipeline)':<44} {frames / elapsed:>12,.0f} packets/s")
    if not args.no_tshark:
        result = tshark(path)
        if result is None:
            print("tshark: not installed")
        else:
            lines, elapsed = result
            label = "tshark -T fields (frame, mip6.mhtype)"
            print(f"{label:<44} {lines / elapsed:>12,.0f} packets/s  ({lines:,} lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
