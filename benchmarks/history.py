"""History rules against the size of the history (issue 8): MCOA608 on a synthetic one.

N bindings at a home agent (HoA i -> CoA i), then route-optimised data from every CoA to a
correspondent node that holds no binding (one ``DataWithoutBinding`` each, 100 s into the
capture: the rule must ask who else held that CoA). Before issue 8 the rule scanned every
binding interval for each such run (N x N); it now looks the (HoA, CoA) up. CPU time of the
rule alone. ``--against REV`` runs the same on another git revision, in a child process (as
``permessage.py`` does). A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(n: int) -> str:
    from mcoaviz.checker.context import CheckerConfig, HistoryContext
    from mcoaviz.checker.rules import data_plane
    from mcoaviz.engine import events as ev
    from mcoaviz.engine.keys import BindingKey, PeerKey

    ha, cn = "2001:db8::1", "2001:db8:c::1"
    history: list[object] = []
    for i in range(n):
        key = BindingKey(ha, f"2001:db8:a::{i:x}", 1)
        history.append(ev.BindingStarted(1000.0 + i * 0.01, i + 1, key, "home-agent", f"2001:db8:1::{i:x}",
                                         3600, 4600.0 + i, False, True, False))
    for i in range(n):
        history.append(ev.DataWithoutBinding(1100.0 + i * 0.01, None, PeerKey(f"2001:db8:a::{i:x}", cn),
                                             f"2001:db8:1::{i:x}", "route-optimised", "from-mn", 1,
                                             "no-binding"))
    ctx = HistoryContext(history, {}, CheckerConfig(), capture_start=1000.0)
    t = time.process_time()
    hits = data_plane.hao_at_node_without_binding(ctx)
    spent = time.process_time() - t
    return f"{n} bindings, {n} unbound route-optimised runs: MCOA608 {len(hits)} hits in {spent:.3f} s CPU"


def child(root: Path, n: int) -> str:
    here = str(ROOT / "benchmarks")
    code = f"import sys; sys.path.insert(0, {str(root)!r}); sys.path.insert(1, {here!r}); " \
           f"import history; print(history.run({n}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=root).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bindings", type=int, nargs="+", default=[1000, 3000, 9000])
    parser.add_argument("--against", metavar="REV", help="also time this git revision")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        other = Path(folder)
        if args.against:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.against, "dissector",
                                      "mcoaviz"], capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(other)], input=archive, check=True)
        for n in args.bindings:
            if args.against:
                print(f"{args.against:>12} load {os.getloadavg()[0]:.2f}: {child(other, n)}")
            print(f"{'working tree':>12} load {os.getloadavg()[0]:.2f}: {child(ROOT, n)}")


if __name__ == "__main__":
    main()
