"""Replay a capture onto network interfaces through raw AF_PACKET sockets (Linux, root).

Each frame goes out on the interface mapped to its capture interface id, paced by its capture
time divided by --speed (the pacing is the point: it keeps the original order and spacing).
Used by the live end-to-end tests (two network namespaces joined by veth pairs).

    python scripts/replay_raw.py CAPTURE --map 0=ma0 --map 1=ma1 [--speed 10]
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcoaviz.sources import read_frames  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture")
    parser.add_argument("--map", action="append", default=[], metavar="ID=IFACE",
                        help="capture interface id to the interface it is sent on")
    parser.add_argument("--speed", type=float, default=1.0, help="time compression factor")
    args = parser.parse_args()
    targets = dict(item.split("=", 1) for item in args.map)
    frames, _ = read_frames(args.capture)
    sockets: dict[str, socket.socket] = {}
    for name in set(targets.values()):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((name, 0))
        sockets[name] = s
    start = time.monotonic()
    first = frames[0].time if frames else 0.0
    sent = 0
    for frame in frames:
        name = targets.get(str(frame.interface))
        if name is None:
            continue
        due = start + (frame.time - first) / args.speed
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sockets[name].send(frame.data)
        sent += 1
    print(f"sent {sent} frames", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
