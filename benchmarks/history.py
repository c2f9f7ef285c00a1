"""History rules against the size of the history (issue 8): MCOA608 on a synthetic one.

N bindings at a home agent (HoA i -> CoA i), then route-optimised data from every CoA to a
correspondent node that holds no binding (one ``DataWithoutBinding`` each, 100 s into the
capture: the rule must ask who else held that CoA). Before issue 8 the rule scanned every
binding interval for each such run (N x N); it now looks the (HoA, CoA) up. CPU time of the
rule alone. ``--against REV`` runs the same on another git revision, in a child process (as
``permessage.py`` does). ``--capture FILE`` instead analyses a capture once and times every
history rule on its history, one by one (CPU time, best of ``--rounds``, the garbage collector
off as in ``analyse``), costliest first.
A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import gc
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


def per_rule(capture: str, rounds: int, top: int) -> str:
    """Every history rule alone on the capture's history (each rule gets a fresh context, so
    the indexes it builds are charged to it, as the first rule that needs one pays in ``finish``;
    the events-by-type pass every rule shares is built before the clock starts)."""
    from mcoaviz import pipeline as P
    from mcoaviz.checker import Checker

    kept: list[Checker] = []
    finish = Checker.finish

    def keep(self: Checker, engine: object | None = None) -> object:
        kept.append(self)
        return finish(self, engine)

    Checker.finish = keep  # type: ignore[method-assign]
    P.analyse(capture)
    Checker.finish = finish  # type: ignore[method-assign]
    checker = kept[-1]
    from mcoaviz.checker.context import HistoryContext

    def context() -> HistoryContext:
        c = checker
        return HistoryContext(list(c._events), dict(c._signalling), c.config, hao_data=tuple(c._hao_data),
                              capture_start=c._start, frame_dialects=dict(c._dialects),
                              watched_data=tuple(c._watched_data), ipv4_hoa_last=dict(c._ipv4_hoas),
                              esp_last=dict(c._esp_last), home_data=tuple(c._home_data))

    # as in ``analyse`` (pipeline.StepwiseCollector): no automatic collection scans the history
    gc.collect()
    gc.freeze()
    gc.disable()
    names = [f"{rule.code} {rule.check.__name__}" for rule in checker._history_rules]
    alone: dict[str, float] = {}
    hits: dict[str, int] = {}
    for rule, name in zip(checker._history_rules, names, strict=True):
        for _ in range(rounds):
            ctx = context()
            _ = ctx._positions  # the one pass every ``of`` shares is not charged to any rule
            t = time.process_time()
            hits[name] = len(rule.check(ctx))
            alone[name] = min(alone.get(name, float("inf")), time.process_time() - t)
    # in one context, in catalogue order (as ``Checker.finish`` runs them): a shared index is
    # charged to the first rule that builds it
    shared: dict[str, float] = {}
    whole = []
    for _ in range(rounds):
        ctx = context()
        start = time.process_time()
        for rule, name in zip(checker._history_rules, names, strict=True):
            t = time.process_time()
            rule.check(ctx)
            shared[name] = min(shared.get(name, float("inf")), time.process_time() - t)
        whole.append(time.process_time() - start)
    ranked = sorted(names, key=lambda n: -shared[n])
    lines = [f"{len(checker._events)} events, {len(names)} history rules: all in one context best "
             f"{min(whole):.3f} s CPU (index pass included); in order / alone (fresh context):"]
    lines += [f"  {1e3 * shared[n]:7.1f} / {1e3 * alone[n]:7.1f} ms  {n} ({hits[n]} hits)"
              for n in ranked[:top]]
    return "\n".join(lines)


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
    parser.add_argument("--capture", help="time every history rule on this capture's history instead")
    parser.add_argument("--rounds", type=int, default=3, help="with --capture: best of this many")
    parser.add_argument("--top", type=int, default=30, help="with --capture: the costliest this many")
    args = parser.parse_args()
    if args.capture:
        print(f"load {os.getloadavg()[0]:.2f}: {per_rule(args.capture, args.rounds, args.top)}")
        return
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
