"""Where engine acceptance tests get captures: the committed sample-captures/ (iterated at test
time), or, for a scenario not committed there yet, a fresh run of the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dissector.codepoints import Dialect
from tests.conftest import SAMPLES


def sample_files(prefix: str = "") -> list[Path]:
    return sorted(p for p in SAMPLES.glob(f"{prefix}*.pcapng") if truth_path(p).exists())


def truth_path(capture: Path) -> Path:
    return capture.with_name(capture.name.removesuffix(".pcapng") + ".truth.json")


def load_truth(capture: Path) -> dict[str, Any]:
    return json.loads(truth_path(capture).read_text())


def simulated(name: str, dialect: Dialect, tmp_path: Path, seed: int = 1) -> tuple[Path, dict[str, Any]]:
    """Run scenario ``name`` now: (capture path, truth)."""
    from mcoaviz.simulate.scenarios import run

    result = run(name, dialect=dialect, seed=seed)
    path = tmp_path / f"{name}-{dialect.value}-{seed}.pcapng"
    path.write_bytes(result.pcapng)
    return path, result.truth
