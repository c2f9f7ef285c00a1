"""A progress bar on stderr while a long capture file is read (packets, MB, rate, ETA).

Shown only when stderr is a terminal and ``--quiet`` is not given; Rich draws it from its own
refresh thread, which reads the pipeline's position (``Pipeline.position``: bytes of the file
walked so far) a few times a second, so the read loop pays nothing for it.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from typing import Any

MIN_BYTES = 32 << 20  # smaller files are read before a bar would be useful


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar on stderr (there is none when stderr is not a terminal)")


def wanted(args: argparse.Namespace) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


class ProgressBar:
    """``analyse(..., progress=ProgressBar())``: started with the pipeline and the file size."""

    def __init__(self, console: Any = None) -> None:
        self._console = console  # a rich Console; default: stderr
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pipeline: Any, total: int) -> None:
        if total < MIN_BYTES:
            return
        self._thread = threading.Thread(target=self._run, args=(pipeline, total), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self, pipeline: Any, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TextColumn("{task.fields[packets]} packets"), TimeRemainingColumn())
        name = os.path.basename(pipeline.name or "capture")
        from mcoaviz.safetext import for_rich

        console = self._console or Console(stderr=True)
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(for_rich(name), total=total, packets="0")
            while True:
                bar.update(task, completed=min(pipeline.position, total),
                           packets=f"{pipeline.packets_so_far:,}")
                if self._stop.wait(0.25):
                    break
