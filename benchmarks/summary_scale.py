"""How `mcoaviz analyse` answers on a big capture: lines of the default output (the summary) and
time to analyse, filter and summarise. A script, not a test: it prints figures.

    python benchmarks/summary_scale.py                       # 3000 mobile nodes x 2 CoAs, 60 s
    python benchmarks/summary_scale.py --mobile-nodes 10000 --rate 5000
"""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path

from mcoaviz.cli.analyse_view import ReportOptions, report
from mcoaviz.cli.terminal import Writer
from mcoaviz.pipeline import analyse
from mcoaviz.query import Query, RowFilter, TimeFormat, restrict, summarise
from mcoaviz.simulate.scale import write_scale_capture

DATA = Path(__file__).resolve().parent / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mobile-nodes", type=int, default=3000)
    parser.add_argument("--coas", type=int, default=2)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--rate", type=int, default=2000)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    path = DATA / f"summary-{args.mobile_nodes}x{args.coas}-{args.duration:g}s-{args.rate}.pcapng"
    if not path.exists():
        write_scale_capture(str(path), mobile_nodes=args.mobile_nodes, coas=args.coas,
                            duration=args.duration, rate=args.rate)
    print(f"load average {os.getloadavg()[0]:.2f}; capture {path.name}")

    t = time.perf_counter()
    analysis = analyse(path)
    print(f"analyse                      {time.perf_counter() - t:8.2f} s")
    first = analysis.capture["first_time"]
    t = time.perf_counter()
    out = io.StringIO()
    report(analysis, Writer(out, colour=False), TimeFormat("relative", first), ReportOptions())
    lines = len(out.getvalue().splitlines())
    print(f"default output (summary)     {time.perf_counter() - t:8.3f} s, {lines} lines")
    t = time.perf_counter()
    summarise(analysis)
    print(f"summarise                    {time.perf_counter() - t:8.3f} s")
    hoa = analysis.bindings[len(analysis.bindings) // 2]["hoa"]
    t = time.perf_counter()
    one = restrict(analysis, Query(RowFilter.parse(hoas=[hoa])))
    print(f"--hoa {hoa:<22} {time.perf_counter() - t:8.3f} s, {len(one.bindings)} binding rows")
    t = time.perf_counter()
    state = restrict(analysis, Query.at(first + args.duration / 2))
    valid = len(state.bindings)
    print(f"--at {args.duration / 2:<24g} {time.perf_counter() - t:8.3f} s, {valid} bindings valid")


if __name__ == "__main__":
    main()
