"""Peak memory of `analyse` on scale-mode captures: it must not grow with the packet count.

Writes two captures with ``mcoaviz.simulate.scale.write_scale_capture`` under benchmarks/data/
(gitignored; reused when present): the same mobile nodes, CoAs and duration, so the same
bindings and the same number of per-second bins, with 1 M and 10 M packets. Each is analysed in
a fresh subprocess (the whole pipeline, checker included) which reports its peak RSS
(``resource.getrusage``; /proc anon and file-backed peaks on Linux); a flat figure means memory
depends on bindings and time bins only. Note: the fast path keeps a cache of validated header
keys bounded at ``dissector.fastclassify.CACHE_LIMIT`` entries per table; until that bound is
reached (a few million packets) it adds memory, after it nothing grows. ``--small 5000000``
shows the flat part.

    python benchmarks/memory.py [--small N] [--large N] [--duration S] [--no-checker]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

CHILD = """
import json, resource, sys, threading, time
peak = {"RssAnon": 0, "RssFile": 0}
def sample():  # anonymous (heap) vs file-backed (mapped capture, libraries) resident memory
    while True:
        with open("/proc/self/status") as status:
            for line in status:
                name = line.split(":")[0]
                if name in peak:
                    peak[name] = max(peak[name], int(line.split()[1]))
        time.sleep(0.1)
threading.Thread(target=sample, daemon=True).start()
from mcoaviz.pipeline import AnalysisOptions, analyse
start = time.perf_counter()
a = analyse(sys.argv[1], AnalysisOptions(run_checker=sys.argv[2] == "1"))
elapsed = time.perf_counter() - start
print(json.dumps({"frames": a.capture["frames"], "seconds": elapsed, "bindings": len(a.bindings),
                  "traffic_rows": len(a.traffic), "bins": len(a.traffic_bins),
                  "messages": len(a.messages), "findings": len(a.findings),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "peak_anon_mib": peak["RssAnon"] / 1024, "peak_file_mib": peak["RssFile"] / 1024}))
"""


def capture(packets: int, duration: float, mobile_nodes: int, coas: int) -> Path:
    from mcoaviz.simulate.scale import write_scale_capture

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"scale-{packets}-{int(duration)}s-{mobile_nodes}x{coas}.pcapng"
    if not path.exists():
        began = time.perf_counter()
        written = write_scale_capture(path, mobile_nodes, coas, duration, packets / duration)
        print(f"wrote {path.name}: {written} packets in {time.perf_counter() - began:.1f} s", flush=True)
    return path


def measure(path: Path, checker: bool) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), "1" if checker else "0"],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000_000, help="packets in the small capture")
    parser.add_argument("--large", type=int, default=10_000_000, help="packets in the large capture")
    parser.add_argument("--duration", type=float, default=300.0, help="capture duration, s (both)")
    parser.add_argument("--mobile-nodes", type=int, default=20)
    parser.add_argument("--coas", type=int, default=3)
    parser.add_argument("--no-checker", action="store_true")
    args = parser.parse_args()
    results = []
    for packets in (args.small, args.large):
        path = capture(packets, args.duration, args.mobile_nodes, args.coas)
        result = measure(path, not args.no_checker)
        results.append(result)
        print(f"{packets:>11,} packets: peak RSS {result['peak_rss_mib']:7.1f} MiB "
              f"(anon {result['peak_anon_mib']:.1f}, file-backed {result['peak_file_mib']:.1f}), "
              f"{result['seconds']:6.1f} s ({result['frames'] / result['seconds']:,.0f} packets/s), "
              f"{result['bindings']} bindings, {result['traffic_rows']} traffic rows, "
              f"{result['bins']} bins, {result['messages']} messages", flush=True)
    small, large = results
    growth = large["peak_rss_mib"] / small["peak_rss_mib"]
    print(f"peak RSS ratio large/small: {growth:.2f} for {args.large / args.small:.0f}x the packets")
    return 0 if growth < 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
