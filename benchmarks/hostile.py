"""Time and peak memory of `mcoaviz analyse` on the hostile captures of issue 13.

    python benchmarks/hostile.py            # from the project root

Each case runs in a fresh process that reports its own peak RSS, so the figures do not mix.
Before the bounds, the Pad1 flood (4.3 MB) took 1.2 GB; see docs/security.md for the bounds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile import files  # noqa: E402

CASES = {
    "pad1-flood-2000-messages": lambda: files.pad1_flood(2000),
    "undeclared-interface-300k-blocks": lambda: files.undeclared_interface_flood(300_000),
    "interface-blocks-100k": lambda: files.interface_flood(100_000),
    "udp-esp-chain-1200": lambda: files.capture([files.udp_esp_chain(1200)] * 50),
}

RUN = """
import resource, sys
from mcoaviz.cli import main
status = main(["analyse", sys.argv[1]])
sys.stdout.flush()
sys.stderr.write(f"RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}\\n")
sys.exit(status)
"""


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'case':36} {'input MB':>9} {'seconds':>8} {'peak RSS MB':>12} {'exit':>5}")
    with tempfile.TemporaryDirectory() as folder:
        for name, build in CASES.items():
            path = Path(folder) / f"{name}.pcapng"
            path.write_bytes(build())
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", RUN, str(path)], capture_output=True, text=True,
                                  env=dict(os.environ, PYTHONPATH=str(ROOT)), check=False)
            seconds = time.perf_counter() - started
            rss = next((line.split()[1] for line in done.stderr.splitlines() if line.startswith("RSS ")), "?")
            size = path.stat().st_size / 1e6
            print(f"{name:36} {size:9.1f} {seconds:8.1f} {rss:>12} {done.returncode:>5}")


if __name__ == "__main__":
    main()
