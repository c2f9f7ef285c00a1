"""Run the fuzz target: ``python -m fuzz.run --runs 1000000`` (from the project root).

With atheris installed (``pip install atheris``; coverage-guided, libFuzzer) it is used;
``--builtin`` (or no atheris) uses a small seeded mutation fuzzer that needs nothing, which is
what CI runs as a short slice (tests/fuzz). Either way:

* an exception or a broken memory bound (fuzz/targets.py) is saved to ``--crashers`` as a file
  that reproduces it (``python -m fuzz.run --replay FILE``) and fuzzing goes on;
* peak RSS is watched; above ``--rss-limit-mb`` the run stops and says so;
* figures (executions, crashers, peak RSS, time) are written to ``--stats`` as JSON as it goes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

INTERESTING = (0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 12, 28, 32, 135, 4191)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Recorder:
    """Counts executions and keeps one file per distinct crash signature."""

    def __init__(self, crashers: Path, stats: Path | None, rss_limit_mb: float) -> None:
        self.crashers = crashers
        self.stats = stats
        self.rss_limit_mb = rss_limit_mb
        self.executions = 0
        self.signatures: dict[str, str] = {}
        self.started = time.monotonic()

    def run(self, target: Callable[[bytes], None], data: bytes) -> None:
        self.executions += 1
        try:
            target(data)
        except Exception as exc:  # noqa: BLE001 - a crasher is data here
            self._crash(exc, data)
        if self.executions % 5000 == 0:
            self.write_stats()
            if peak_rss_mb() > self.rss_limit_mb:
                self.write_stats()
                raise SystemExit(f"peak RSS {peak_rss_mb():.0f} MB above --rss-limit-mb {self.rss_limit_mb}")

    def _crash(self, exc: Exception, data: bytes) -> None:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        signature = f"{type(exc).__name__} at {where}"
        if signature in self.signatures:
            return
        self.crashers.mkdir(parents=True, exist_ok=True)
        name = f"crash-{hashlib.sha1(data).hexdigest()[:16]}"
        (self.crashers / name).write_bytes(data)
        self.signatures[signature] = name
        print(f"crasher {name}: {signature}: {str(exc)[:200]}", file=sys.stderr, flush=True)

    def summary(self) -> dict[str, object]:
        elapsed = time.monotonic() - self.started
        return {"executions": self.executions, "seconds": round(elapsed, 1),
                "executions_per_second": round(self.executions / elapsed, 1) if elapsed else None,
                "crashers": len(self.signatures), "signatures": self.signatures,
                "peak_rss_mb": round(peak_rss_mb(), 1)}

    def write_stats(self) -> None:
        if self.stats is not None:
            self.stats.write_text(json.dumps(self.summary(), indent=1) + "\n")


def mutate(rng: random.Random, data: bytes, seeds: list[bytes], max_len: int) -> bytes:
    """A few random edits: byte flips, interesting values, inserts, deletes, repeats, splices."""
    buf = bytearray(data)
    for _ in range(1 + rng.randrange(4)):
        op = rng.randrange(7)
        at = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(at, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            buf[min(at, len(buf) - 1)] = rng.randrange(256)
        elif op == 2:
            value = rng.choice(INTERESTING)
            size = rng.choice((1, 2, 4))
            order = rng.choice(("big", "little"))
            buf[at:at + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, order)
        elif op == 3:
            buf[at:at] = bytes(rng.randrange(256) for _ in range(1 + rng.randrange(8)))
        elif op == 4 and buf:
            del buf[at:at + 1 + rng.randrange(16)]
        elif op == 5 and buf:  # repeat a slice: floods of options, blocks, headers
            start = rng.randrange(len(buf))
            piece = buf[start:start + 1 + rng.randrange(64)]
            buf[at:at] = piece * (1 + rng.randrange(32))
        elif op == 6:
            other = rng.choice(seeds)
            cut = rng.randrange(len(other) + 1)
            buf[at:] = other[cut:]
    if buf and rng.randrange(16) == 0:  # sometimes change what the input is for
        buf[0] = rng.randrange(4)
    return bytes(buf[:max_len])


def run_builtin(recorder: Recorder, target: Callable[[bytes], None], seeds: list[bytes], runs: int,
                seed: int, max_len: int) -> None:
    rng = random.Random(seed)
    for data in seeds:
        recorder.run(target, data)
    while recorder.executions < runs:
        recorder.run(target, mutate(rng, rng.choice(seeds), seeds, max_len))


def run_atheris(recorder: Recorder, corpus: Path, args: argparse.Namespace) -> None:
    import atheris

    from fuzz.targets import one_input

    # the modules are imported already (the seeds need them): instrument what is loaded
    atheris.instrument_all()

    def test_one_input(data: bytes) -> None:
        recorder.run(one_input, data)

    argv = [sys.argv[0], str(corpus), f"-runs={args.runs}", f"-max_len={args.max_len}",
            f"-rss_limit_mb={int(args.rss_limit_mb)}", f"-seed={args.seed}", "-print_final_stats=1"]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000, help="executions (default 10 000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-len", type=int, default=16384, help="longest input tried, bytes")
    parser.add_argument("--rss-limit-mb", type=float, default=1024.0)
    parser.add_argument("--builtin", action="store_true", help="the built-in mutator even with atheris")
    parser.add_argument("--corpus", type=Path, default=Path("fuzz/corpus"),
                        help="corpus folder: atheris's working corpus (written with the seeds first); "
                             "the built-in mutator adds its files to the seeds")
    parser.add_argument("--crashers", type=Path, default=Path("fuzz/crashers"))
    parser.add_argument("--stats", type=Path, default=None, help="write figures here as JSON")
    parser.add_argument("--replay", type=Path, nargs="*", help="run these inputs once, show tracebacks")
    args = parser.parse_args(argv)
    from fuzz.seeds import all_seeds, write_corpus

    recorder = Recorder(args.crashers, args.stats, args.rss_limit_mb)
    if args.replay:
        from fuzz.targets import one_input

        for path in args.replay:
            one_input(path.read_bytes())
            print(f"{path}: no exception")
        return 0
    use_atheris = not args.builtin
    if use_atheris:
        try:
            import atheris  # noqa: F401
        except ImportError:
            use_atheris = False
    if use_atheris:
        write_corpus(args.corpus)
        run_atheris(recorder, args.corpus, args)
    else:
        from fuzz.targets import one_input

        seeds = all_seeds()
        if args.corpus.is_dir():  # e.g. what a coverage-guided run found: mutate that too
            seeds += [p.read_bytes() for p in sorted(args.corpus.iterdir()) if p.is_file()]
        run_builtin(recorder, one_input, seeds, args.runs, args.seed, args.max_len)
    recorder.write_stats()
    print(json.dumps(recorder.summary()), file=sys.stderr)
    return 1 if recorder.signatures else 0


if __name__ == "__main__":
    raise SystemExit(main())
