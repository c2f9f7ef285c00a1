"""Render `mcoaviz analyse` output on a sample capture as an SVG terminal screenshot for the README."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    capture = sys.argv[1] if len(sys.argv) > 1 else "sample-captures/figure8-rfc5648.pcapng"
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"FORCE_COLOR": "1"}  # its own colours
    out = subprocess.run(
        [sys.executable, "-m", "mcoaviz", "analyse", capture], cwd=ROOT, capture_output=True, text=True,
        env=env,
    )
    lines = (out.stdout or out.stderr).splitlines()
    width = max(Text.from_ansi(line).cell_len for line in lines) + 2
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(Text(f"$ mcoaviz analyse {capture}", style="bold green"))
    for line in lines:
        console.print(Text.from_ansi(line), soft_wrap=True)
    target = ROOT / "docs" / "screenshot-analyse.svg"
    target.write_text(console.export_svg(title="mcoaviz analyse"), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
