"""Per signalling message: what the engine, its message rows and the checker cost (issue 8).

The capture is analysed once while every record the pipeline hands to the engine is kept (the
decoded slow-path packets with their pair's dialect, and the fast path's traffic rows between
them). That sequence is then replayed ``--rounds`` times through a fresh ``Pipeline`` with the
garbage collector off and everything kept frozen; only the slow-path records are timed (CPU
time). Decoding is not included (``benchmarks/signalling.py`` times ``decode_frame``).

``--against REV`` runs the same replay on the ``dissector/`` and ``mcoaviz/`` packages of another
git revision (exported into a temporary folder, the C accelerator copied over), alternating with
the working tree in child processes so both see the same machine load; the load average is
printed with each. This is a benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import gc
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def replay(capture: str, rounds: int) -> str:
    from mcoaviz import pipeline as P

    seq: list[tuple[bool, Any, Any]] = []
    to_engine, rows_to_engine = P.Pipeline._to_engine, P.Pipeline._rows_to_engine

    def keep_packet(self: Any, packet: Any, dialect: Any) -> Any:
        seq.append((True, packet, dialect))
        return to_engine(self, packet, dialect)

    def keep_rows(self: Any, rows: Any) -> Any:
        seq.append((False, rows, None))
        return rows_to_engine(self, rows)

    P.Pipeline._to_engine, P.Pipeline._rows_to_engine = keep_packet, keep_rows  # type: ignore[method-assign]
    P.analyse(capture)
    P.Pipeline._to_engine, P.Pipeline._rows_to_engine = to_engine, rows_to_engine  # type: ignore[method-assign]
    messages = sum(1 for is_packet, p, _ in seq if is_packet and p.mobility is not None)
    gc.collect()
    gc.freeze()
    gc.disable()
    spent: list[float] = []
    for _ in range(rounds):
        pipeline = P.Pipeline(None, name=capture)
        total = 0.0
        for is_packet, item, dialect in seq:
            if is_packet:
                t = time.process_time()
                pipeline._to_engine(item, dialect)
                total += time.process_time() - t
            else:
                pipeline._rows_to_engine(item)
        spent.append(total)
        del pipeline
        gc.collect()
    spent.sort()
    per = [1e6 * s / max(messages, 1) for s in spent]
    return (f"{messages} messages: engine + message rows + checker per message: best {per[0]:.0f} us, "
            f"median {per[len(per) // 2]:.0f} us")


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def child(root: Path, capture: str, rounds: int) -> str:
    bench = str(ROOT / "benchmarks")
    code = f"import sys; sys.path.insert(0, {str(root)!r}); sys.path.insert(1, {bench!r}); " \
           f"import permessage; print(permessage.replay({capture!r}, {rounds}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=root).stdout.strip()


def export_revision(rev: str, into: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "dissector", "mcoaviz"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    for built in glob.glob(str(ROOT / "dissector" / "_fastscan*.so")):
        shutil.copy(built, into / "dissector")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("capture")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", metavar="REV", help="also time this git revision, alternating")
    parser.add_argument("--repeat", type=int, default=2, help="alternations with --against")
    args = parser.parse_args()
    if not args.against:
        print(f"load {load()}: {replay(args.capture, args.rounds)}")
        return
    with tempfile.TemporaryDirectory() as folder:
        other = Path(folder)
        export_revision(args.against, other)
        for _ in range(args.repeat):
            print(f"{args.against:>12} load {load()}: {child(other, args.capture, args.rounds)}")
            print(f"{'working tree':>12} load {load()}: {child(ROOT, args.capture, args.rounds)}")


if __name__ == "__main__":
    main()
