"""A progress bar on a terminal while a capture file is analysed (Rich, on stderr).

The bulk path hands the pipeline only the records the fast path declines, each with its offset
in the memory-mapped file, so the offset of the last one seen is how far the walk has come. The
wrapper passes ``accelerate`` through, so the C accelerator still walks the file. Pipes and
stdin (no size known) and non-terminals get no bar; the analysis is the same either way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from dissector.capture import RawRecord
from mcoaviz.pipeline import Analysis, AnalysisOptions, Pipeline, analyse

UPDATE_EVERY = 256  # records between updates of the bar


class _Tracked:
    """A record walk that reports each yielded record's offset to ``advance``."""

    def __init__(self, walk: Any, advance: Any) -> None:
        self._walk = walk
        self._advance = advance

    def accelerate(self, accelerator: Any) -> bool:
        hook = getattr(self._walk, "accelerate", None)
        return bool(hook(accelerator)) if hook is not None else False

    def __iter__(self) -> Iterator[RawRecord]:
        advance = self._advance
        for count, record in enumerate(self._walk):
            if count % UPDATE_EVERY == 0:
                advance(record[5])
            yield record


def analyse_with_progress(path: str, options: AnalysisOptions, stream: TextIO | None = None) -> Analysis:
    """``mcoaviz.pipeline.analyse`` with a progress bar when ``stream`` (default stderr) is a
    terminal and ``path`` a regular file. Raises CaptureSourceError like ``analyse``."""
    stream = stream if stream is not None else sys.stderr
    if path == "-" or not stream.isatty() or not os.path.isfile(path):
        return analyse(path, options)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from mcoaviz.sources import open_capture

    size = os.path.getsize(path) or 1
    columns = (TextColumn("analysing"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(file=stream), transient=True) as bar:
        task = bar.add_task("analyse", total=size)
        pipeline = Pipeline(options, name=os.fspath(path))
        with open_capture(path) as capture:
            walk = _Tracked(capture.records(), lambda offset: bar.update(task, completed=offset))
            pipeline.feed_records(walk)
            bar.update(task, completed=size)
            return pipeline.finish(capture.interfaces, capture.problems, capture.format)
