"""Run the engine's consistency property under many Hypothesis seeds (issue 16 acceptance).

    .venv/bin/python benchmarks/property_seeds.py [--seeds 500] [--first 0] [--examples 150]

Each seed is an independent random run of ``test_engine_never_raises_and_rows_are_consistent``
(tests/engine/test_robustness.py) with the dev profile's example count; the script prints how many
seeds failed and the first falsifying seeds. A flaky property shows up here, not by luck in CI.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hypothesis import Phase, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=500)
    parser.add_argument("--first", type=int, default=0, help="first seed (to split a run over processes)")
    parser.add_argument("--examples", type=int, default=150)
    parser.add_argument("--progress", action="store_true", help="print a line per seed")
    parser.add_argument("--generated-only", action="store_true",
                        help="skip the @example cases (how often does random search find a bug?)")
    args = parser.parse_args()
    # the test's own @settings leaves max_examples to the loaded profile (as tests/conftest.py does)
    phases = [p for p in Phase if p is not Phase.explicit] if args.generated_only else list(Phase)
    settings.register_profile("seeds", max_examples=args.examples, deadline=None, database=None,
                              phases=phases)
    settings.load_profile("seeds")
    from tests.engine.test_robustness import test_engine_never_raises_and_rows_are_consistent as prop

    failed: list[int] = []
    began = time.perf_counter()
    for n in range(args.first, args.first + args.seeds):
        try:
            seed(n)(prop)()
        except Exception as error:  # noqa: BLE001 - any failure of the property counts
            failed.append(n)
            first_line = next(iter(str(error).splitlines()), "")
            print(f"seed {n}: {type(error).__name__}: {first_line[:200]}", flush=True)
        else:
            if args.progress:
                print(f"seed {n}: passed", flush=True)
    took = time.perf_counter() - began
    last = args.first + args.seeds - 1
    print(f"seeds {args.first}..{last}: {args.seeds - len(failed)}/{args.seeds} passed "
          f"({args.examples} examples each) in {took:.0f} s; failing seeds: {failed[:20]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
