"""Ingest rate and memory of the TUI while it runs (headless Textual), and how late its event
loop gets while ingesting (a proxy for input latency).

    python benchmarks/tui.py                    # 1 h of scale-mode traffic, replayed as fast as it goes
    python benchmarks/tui.py --capture FILE --live
    python benchmarks/tui.py --idle 20          # baseline: the UI timer with nothing to ingest

Without ``--live`` the capture is fed as ``mcoaviz tui FILE`` feeds it (``ingest_file``: the
pipeline's bulk path in chunks); with ``--live`` exactly as ``mcoaviz live`` feeds dumpcap's
stream (``LiveCapture`` + ``ingest_live``, with a stand-in dumpcap that writes the file into
the pipe: chunks of what has arrived through the bulk path, a live session with retention, no
end-of-capture step), and the RSS is taken right after the last frame and every
``--rss-every`` seconds of capture time on the way (the memory slope).
The screen redraws every 0.5 s meanwhile.
One hour of capture time replayed faster than real time is the "hour of traffic" the memory
figure is for.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcoaviz.livecapture import LiveCapture  # noqa: E402
from mcoaviz.tui.app import McoaApp  # noqa: E402
from mcoaviz.tui.ingest import ingest_file, ingest_live  # noqa: E402
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


def fake_dumpcap(path: Path) -> Path:
    """A directory holding a ``dumpcap`` that writes ``path`` to its stdout (the pipe)."""
    folder = Path(tempfile.mkdtemp(prefix="mcoaviz-bench-"))
    script = folder / "dumpcap"
    script.write_text(f"#!/bin/sh\nexec cat '{path}'\n")
    script.chmod(0o755)
    return folder


async def run(path: Path | None, live: bool, rss_every: float, idle: float) -> None:
    session = Session(name=str(path), live=live)
    samples: list[tuple[float, float]] = []  # (capture seconds, RSS MiB)
    capture = None
    if idle:
        app = McoaApp(session, lambda s, stop: stop.wait(idle) and None, live=True)
    elif live:
        assert path is not None
        os.environ["PATH"] = f"{fake_dumpcap(path)}{os.pathsep}{os.environ['PATH']}"
        capture = LiveCapture(["bench0"])
        capture.start()

        def sample() -> None:
            first, last = session.pipeline.first_time, session.pipeline.last_time
            if first is not None and last is not None and last - first >= rss_every * (len(samples) + 1):
                samples.append((last - first, rss_mib()))

        live_capture = capture
        app = McoaApp(session, lambda s, stop: ingest_live(s, live_capture, stop, sample), live=True,
                      on_quit=capture.stop)
    else:
        assert path is not None
        app = McoaApp(session, lambda s, stop: ingest_file(s, str(path), stop), live=False)
    gaps: list[float] = []
    collections: dict[int, list[float]] = {0: [], 1: [], 2: []}  # seconds per run of the collector
    started = [0.0]

    def collected(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            collections[info["generation"]].append(time.perf_counter() - started[0])

    gc.callbacks.append(collected)
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
        gc.callbacks.remove(collected)
        app.refresh_screen(force=True)
        await pilot.pause()
        frames = session.frames
        if capture is not None:
            capture.stop()
        print(f"load average       {os.getloadavg()[0]:.2f} (at the end)")
        if path is not None:
            print(f"capture            {path.name} ({path.stat().st_size / 2**20:.0f} MiB)")
        print(f"frames             {frames}")
        print(f"ingest with TUI    {elapsed:.1f} s = {frames / elapsed:,.0f} frames/s")
        gaps.sort()
        print(f"event loop gaps    median {1000 * gaps[len(gaps) // 2]:.0f} ms, "
              f"p99 {1000 * gaps[int(len(gaps) * 0.99)]:.0f} ms, max {1000 * gaps[-1]:.0f} ms "
              f"(timer every 20 ms)")
        print(f"RSS after ingest   {rss_end:.0f} MiB (peak "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")
        full, longest = collections[2], 1000 * max(collections[2], default=0)
        print(f"cyclic GC          {len(collections[0]) + len(collections[1])} young collections, "
              f"{len(full)} full ({1000 * sum(full):.0f} ms in all, longest {longest:.0f} ms)")
        for seconds, rss in samples:
            print(f"  RSS at {seconds / 3600:5.2f} h of capture time: {rss:.0f} MiB")
        if len(samples) >= 3:
            (t0, r0), (t1, r1) = samples[1], samples[-1]
            slope = (r1 - r0) / ((t1 - t0) / 3600)
            print(f"  slope from {t0 / 3600:.2f} h to {t1 / 3600:.2f} h: {slope:+.1f} MiB/h")
        data = session.view()
        assert data is not None
        engine = session.pipeline.engine
        bins = sum(len(seconds) for seconds in engine.traffic_table.bins.values())
        print(f"held               {len(data.messages)} messages on screen ({len(engine.messages())} in the "
              f"engine, {engine.messages_aged} aged out), {len(engine.events)} events, {bins} traffic bins, "
              f"{len(data.bindings)} binding rows, {len(data.findings)} findings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", type=Path)
    parser.add_argument("--duration", type=int, default=3600)
    parser.add_argument("--rate", type=int, default=300, help="packets per second of capture time")
    parser.add_argument("--mobile-nodes", type=int, default=20)
    parser.add_argument("--live", action="store_true", help="as `mcoaviz live` (stand-in dumpcap)")
    parser.add_argument("--rss-every", type=float, default=1800.0, metavar="S",
                        help="with --live: RSS every S seconds of capture time")
    parser.add_argument("--idle", type=float, default=0.0, metavar="S",
                        help="baseline: run the UI S seconds with nothing to ingest")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} (at the start)")
    path = None if args.idle else (args.capture or make_capture(args))
    asyncio.run(run(path, args.live, args.rss_every, args.idle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
