"""Ingest rate and memory of the TUI while it runs (headless Textual), and how late its event
loop gets while ingesting (a proxy for input latency).

    python benchmarks/tui.py                    # 1 h of scale-mode traffic, replayed as fast as it goes
    python benchmarks/tui.py --capture FILE --live

Without ``--live`` the capture is fed as ``mcoaviz tui FILE`` feeds it (``ingest_file``: the
pipeline's bulk path in chunks); with ``--live`` as ``mcoaviz live`` feeds dumpcap's stream
(frame by frame through ``Pipeline.feed_frame``, a live session: bounded message list, old
traffic bins folded, no end-of-capture step), and the RSS is taken right after the last frame.
The screen redraws every 0.5 s meanwhile.
One hour of capture time replayed faster than real time is the "hour of traffic" the memory
figure is for.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcoaviz.sources import open_capture  # noqa: E402
from mcoaviz.tui.app import McoaApp  # noqa: E402
from mcoaviz.tui.ingest import ingest_file  # noqa: E402
from mcoaviz.tui.session import Session  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def make_capture(args: argparse.Namespace) -> Path:
    path = DATA / f"tui-{args.duration}s-{args.rate}pps.pcapng"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-c", "import sys; from mcoaviz.cli import main; sys.exit(main())",
                        "simulate", "scale", "--mobile-nodes", str(args.mobile_nodes), "--coas", "3",
                        "--duration", str(args.duration), "--rate", str(args.rate), "--snaplen", "128",
                        "-o", str(path)], check=True)
    return path


def feed_like_live(session: Session, path: Path) -> None:
    """What ``mcoaviz live`` does with dumpcap's stream, from a file: frames in, no finish."""
    with open_capture(path) as source:
        session.interfaces = source.interfaces
        session.feed(source.frames())


async def run(path: Path, live: bool) -> None:
    session = Session(name=str(path), live=live)
    if live:
        app = McoaApp(session, lambda s, stop: feed_like_live(s, path), live=False)
    else:
        app = McoaApp(session, lambda s, stop: ingest_file(s, str(path), stop), live=False)
    gaps: list[float] = []
    async with app.run_test(size=(160, 45)) as pilot:
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

        app.set_interval(0.02, tick)
        start = time.perf_counter()
        await app.workers.wait_for_complete()
        elapsed = time.perf_counter() - start
        rss_end = rss_mib()
        app.refresh_screen(force=True)
        await pilot.pause()
        frames = session.frames
        print(f"capture            {path.name} ({path.stat().st_size / 2**20:.0f} MiB)")
        print(f"frames             {frames}")
        print(f"ingest with TUI    {elapsed:.1f} s = {frames / elapsed:,.0f} frames/s")
        gaps.sort()
        print(f"event loop gaps    median {1000 * gaps[len(gaps) // 2]:.0f} ms, "
              f"p99 {1000 * gaps[int(len(gaps) * 0.99)]:.0f} ms, max {1000 * gaps[-1]:.0f} ms "
              f"(timer every 20 ms)")
        print(f"RSS after ingest   {rss_end:.0f} MiB (peak "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")
        data = session.view()
        engine = session.pipeline.engine
        bins = sum(len(seconds) for seconds in engine.traffic_table.bins.values())
        print(f"held               {len(data.messages)} messages on screen ({len(engine.messages())} in the "
              f"engine), {bins} traffic bins in the engine, {len(data.bindings)} binding rows, "
              f"{len(data.findings)} findings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", type=Path)
    parser.add_argument("--duration", type=int, default=3600)
    parser.add_argument("--rate", type=int, default=300, help="packets per second of capture time")
    parser.add_argument("--mobile-nodes", type=int, default=20)
    parser.add_argument("--live", action="store_true", help="a live session (bounded tables)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    path = args.capture or make_capture(args)
    asyncio.run(run(path, args.live))
    return 0


if __name__ == "__main__":
    sys.exit(main())
