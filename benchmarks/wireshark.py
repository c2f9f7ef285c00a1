"""Cost of ``mcoaviz check --wireshark``: the same check with and without Wireshark's second opinion.

Writes a scale-mode capture (default 100 k packets, a few dozen of them signalling) into a
temporary folder, then times ``mcoaviz check CAPTURE --json`` and ``... --wireshark`` (wall clock,
best of ``--repeat``, child processes, so tshark is included). The load average is printed.
This is a benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def best_wall(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from mcoaviz.simulate.scale import write_scale_capture

    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as folder:
        capture = Path(folder) / "scale.pcapng"
        rate = 5000
        write_scale_capture(capture, 10, 3, args.packets / rate, rate)
        check = [sys.executable, "-m", "mcoaviz", "check", str(capture), "--json"]
        plain = best_wall(check, args.repeat)
        second = best_wall(check + ["--wireshark"], args.repeat)
    print(f"{args.packets} packets: check {plain:.2f} s, check --wireshark {second:.2f} s (wall, best of "
          f"{args.repeat})")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
