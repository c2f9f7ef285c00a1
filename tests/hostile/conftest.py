"""Fixtures of the hostile-files suite: run a command in-process or as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def run_process(*args: str, stdin: int | None = None, stdout: int | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """``python -m mcoaviz ARGS`` as a user runs it (stdout may be a file such as /dev/full)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "mcoaviz", *args], stdin=stdin,
                          stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, timeout=timeout, check=False)


@pytest.fixture
def write(tmp_path: Path):  # noqa: ANN201 - a small factory
    def _write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return _write
