"""Mutation score of the engine and the checker with mutmut (issue 16).

    .venv/bin/pip install mutmut==3.8.1
    .venv/bin/python benchmarks/mutation.py [--rev REV] [--every N [--offset K]] [--max-children 2]

The revision's files (``git archive REV``, default HEAD) are unpacked into a scratch folder
(``--workdir``, default /tmp/mcoaviz-mutation-REV), where a ``[tool.mutmut]`` section is added to
pyproject.toml: mutate ``mcoaviz/engine/*`` and ``mcoaviz/checker/*``, run the fast engine and
checker tests against each mutant: ``tests/engine`` and ``tests/checker`` without the whole-capture
ones (simulated scenarios and samples vs truth, third-party captures) and without the two
Hypothesis properties (random, hundreds of examples each), plus ``tests/cli/test_rules.py``
(the tests of ``mcoaviz/checker/docs.py``: docs/rules.md is its output, and ``mcoaviz rules``
renders it); of those, only the tests that reach the mutated function (mutmut's own
coverage-based selection). The repository itself is
never touched, so the score of an older revision (``--rev main``) can be measured the same way.

``--every N`` runs a deterministic sample: the N-th, 2N-th, ... mutant in mutmut's sorted list
of names (all of them with N = 1); ``--offset K`` (0 <= K < N) shifts it K places along the
list (the (N+K)-th, (2N+K)-th, ..., taken modulo N so the first one is not lost), giving a
second sample disjoint from the first; the names run are written to WORKDIR/sample.txt.
``--sample-from FILE`` runs the names listed in FILE instead (those this revision has), so a
"before" and an "after" score are taken over the same mutants. ``--keep`` reuses WORKDIR's
mutants and test map and does not rerun mutants that already have a result. The machine is
small, so the figures in benchmarks/README.md say which sample they used.

Score = killed / (killed + survived); timeouts and segfaults count as killed (the tests
noticed), "no tests" mutants are listed apart (no fast test reaches that code at all) and not
in the score.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT_CONFIG = """
[tool.mutmut]
source_paths = ["mcoaviz"]
only_mutate = ["mcoaviz/engine/*", "mcoaviz/checker/*"]
also_copy = ["dissector", "docs", "sample-captures"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]
pytest_add_cli_args_test_selection = [
    "tests/engine", "tests/checker", "tests/cli/test_rules.py",
    "--ignore=tests/engine/test_truth.py", "--ignore=tests/checker/test_samples.py",
    "--ignore=tests/checker/test_third_party.py",
    "-k", "not never_raises_and_rows_are_consistent and not any_record_sequence_gives_findings",
]
use_git_change_detection = false
"""
KILLED = {"killed", "timeout", "segfault", "suspicious"}
NO_SUCH_MUTANT = "no-such-mutant-collect-only"


def mutmut() -> str:
    found = shutil.which("mutmut", path=str(Path(sys.executable).parent))
    if found is None:
        sys.exit("mutmut is not installed here: .venv/bin/pip install mutmut==3.8.1")
    return found


def unpack(rev: str, workdir: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(workdir, filter="data")
    built = sorted((ROOT / "dissector").glob("_fastscan*.so"))  # the accelerator, if built here
    for library in built:
        shutil.copy2(library, workdir / "dissector" / library.name)
    with (workdir / "pyproject.toml").open("a") as config:
        config.write(MUTMUT_CONFIG)


def results(workdir: Path) -> dict[str, str]:
    out = subprocess.run([mutmut(), "results", "--all", "true"], cwd=workdir, capture_output=True,
                         text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        match = re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD", help="git revision to measure (default HEAD)")
    parser.add_argument("--every", type=int, default=1, help="run every N-th mutant (default all)")
    parser.add_argument("--offset", type=int, default=0,
                        help="shift the --every sample K places (0 <= K < N; default 0)")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--sample-from", type=Path, help="run the mutants named in this file")
    parser.add_argument("--keep", action="store_true", help="reuse WORKDIR and its results")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    if args.every < 1 or not 0 <= args.offset < args.every:
        parser.error("need --every N >= 1 and 0 <= --offset K < N")
    workdir = args.workdir or Path(f"/tmp/mcoaviz-mutation-{args.rev.replace('/', '-')}")
    began = time.perf_counter()
    if not (args.keep and (workdir / "mutants").is_dir()):
        unpack(args.rev, workdir)
        # generate every mutant and the test-to-function map; running none of them
        subprocess.run([mutmut(), "run", "--max-children", str(args.max_children), NO_SUCH_MUTANT],
                       cwd=workdir, capture_output=True, text=True)
    status = results(workdir)
    names = sorted(status)
    if not names:
        sys.exit(f"mutmut generated no mutants in {workdir} (see mutants/ there)")
    if args.sample_from:
        wanted = set(args.sample_from.read_text().split())
        sample = [name for name in names if name in wanted]
        how = f"{len(sample)} of the {len(wanted)} named in {args.sample_from}"
    else:
        sample = names[(args.every - 1 + args.offset) % args.every :: args.every]
        how = f"{len(sample)} (every {args.every}., offset {args.offset})"
    (workdir / "sample.txt").write_text("".join(f"{name}\n" for name in sample))
    print(f"{args.rev}: {len(names)} mutants in mcoaviz/engine + mcoaviz/checker; running {how}", flush=True)
    todo = [name for name in sample if not args.keep or status[name] == "not checked"]
    for start in range(0, len(todo), 200):  # keep each command line short
        subprocess.run([mutmut(), "run", "--max-children", str(args.max_children),
                        *todo[start : start + 200]], cwd=workdir, capture_output=True, text=True)
    status = results(workdir)
    counts = Counter(status[name] for name in sample)
    killed = sum(n for s, n in counts.items() if s in KILLED)
    survived = counts.get("survived", 0)
    score = 100 * killed / (killed + survived) if killed + survived else 0.0
    took = time.perf_counter() - began
    print(f"statuses: {dict(sorted(counts.items()))}")
    print(f"score: {killed}/{killed + survived} killed = {score:.1f} % ({took / 60:.0f} min)")
    survivors = [name for name in sample if status[name] == "survived"]
    (workdir / "survivors.txt").write_text("".join(f"{name}\n" for name in survivors))
    print(f"survivors listed in {workdir / 'survivors.txt'} (mutmut show NAME there)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
