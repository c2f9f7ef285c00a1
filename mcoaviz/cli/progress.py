"""A progress bar on stderr while a long capture file is read (packets, MB, rate, ETA).

Shown only when stderr is a terminal and ``--quiet`` is not given; Rich draws it from its own
refresh thread, which reads the pipeline's position (``Pipeline.position``: bytes of the file
walked so far, from the C accelerator's windows and the declined records' offsets) a few times
a second, so the read loop pays nothing for it. ``analyse_with_progress`` is the same for
callers that pass their own stream (``mcoaviz report``).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from typing import Any, TextIO

from mcoaviz.pipeline import Analysis, AnalysisOptions, analyse

MIN_BYTES = 32 << 20  # smaller files are read before a bar would be useful


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar on stderr (there is none when stderr is not a terminal)")


def wanted(args: argparse.Namespace) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


class ProgressBar:
    """``analyse(..., progress=ProgressBar())``: started with the pipeline and the file size."""

    def __init__(self, console: Any = None, min_bytes: int = MIN_BYTES) -> None:
        self._console = console  # a rich Console; default: stderr
        self._min_bytes = min_bytes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pipeline: Any, total: int) -> None:
        if total < self._min_bytes:
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
            task = bar.add_task(f"analysing {for_rich(name)}", total=total, packets="0")
            while True:
                bar.update(task, completed=min(pipeline.position, total),
                           packets=f"{pipeline.packets_so_far:,}")
                if self._stop.wait(0.25):
                    break


def analyse_with_progress(path: str, options: AnalysisOptions, stream: TextIO | None = None) -> Analysis:
    """``mcoaviz.pipeline.analyse`` with a progress bar when ``stream`` (default stderr) is a
    terminal and ``path`` a regular file. Raises CaptureSourceError like ``analyse``."""
    stream = stream if stream is not None else sys.stderr
    if path == "-" or not stream.isatty() or not os.path.isfile(path):
        return analyse(path, options)
    from rich.console import Console

    return analyse(path, options, ProgressBar(Console(file=stream), min_bytes=0))
