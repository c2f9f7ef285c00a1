#!/usr/bin/env python3
"""Regenerate every capture in sample-captures/ (deterministic: same bytes every time)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcoaviz.simulate.samples import write_all  # noqa: E402


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "sample-captures"
    for path in write_all(folder):
        sys.stdout.write(f"{path}  {path.stat().st_size:>8} bytes\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
