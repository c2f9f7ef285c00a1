"""Feeding a Session from a capture file or from dumpcap (run in a worker thread)."""

from __future__ import annotations

import gc
import itertools
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from dissector.capture import CaptureParser, record_to_frame
from dissector.records import Frame
from mcoaviz.engine.scratch import SpoolError
from mcoaviz.livecapture import LiveCapture
from mcoaviz.sources import CaptureSourceError, open_capture
from mcoaviz.tui.session import BATCH_FRAMES, Session

# The cyclic collector while a session is fed: a full collection rescans every live object
# and stops every thread, the UI's event loop too (0.3-0.8 s each on a loaded machine). With the
# default thresholds (700, 10, 10) a live session with retention (old rows freed, new ones kept)
# ran 45 of them in a 4 h replay (19 s in all); with these, 3. Cycles are still collected, only
# less often (a third threshold of 100 made the RSS climb between the rare full runs).
GC_THRESHOLDS = (10_000, 10, 10)
RECORD_OVERHEAD = 32  # approximate bytes of block header per packet, for the progress estimate
FILE_CHUNK = 65_536  # records per lock hold on the bulk path (about half a second of work)


@contextmanager
def fewer_full_collections() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def ingest_file(session: Session, path: str, stop: threading.Event | None = None) -> None:
    """Read a whole capture into the session; errors end up in ``session.error``.

    A regular file goes through the pipeline's bulk path in chunks (the screen fills between
    them); message bytes for the detail pane are kept on the way (``Session``), and the file is
    walked once more only for messages the session's ring missed (reported late while
    ``--dialect auto`` was undecided).
    Anything else (a named pipe) is read frame by frame like a live capture."""
    with fewer_full_collections():
        _ingest_file(session, path, stop)


def _ingest_file(session: Session, path: str, stop: threading.Event | None = None) -> None:
    try:
        with open_capture(path) as source:
            session.interfaces = source.interfaces
            if source.seekable_file:
                session.total_bytes = os.path.getsize(path)
                records = source.records()
                while True:
                    chunk = list(itertools.islice(records, FILE_CHUNK))
                    if not chunk:
                        break
                    session.feed_records(chunk)
                    session.bytes_read = chunk[-1][5] + chunk[-1][6]
                    del chunk
                    if stop is not None and stop.is_set():
                        return
            else:
                for batch in _batches(source.frames()):
                    session.feed_batch(batch)
                    session.bytes_read += sum(len(f.data) + RECORD_OVERHEAD for f in batch)
                    if stop is not None and stop.is_set():
                        return
            session.finish(source.interfaces, source.problems, source.format)
            if session.final is not None and session.final.unreadable:
                session.error = f"cannot read {path}: {session.final.unreadable}"
        if source.seekable_file and not session.error:
            session.keep_message_frames(_frames_of(path, session.message_frame_numbers()))
    except (CaptureSourceError, SpoolError) as exc:  # (SpoolError: a full TMPDIR)
        session.error = str(exc)
        session.done = True


def _batches(frames: Iterable[Frame]) -> Iterator[list[Frame]]:
    batch: list[Frame] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) >= BATCH_FRAMES:
            yield batch
            batch = []
    yield batch


def _frames_of(path: str, numbers: set[int]) -> dict[int, Frame]:
    """The frames with these numbers, read from the file (a walk without decoding)."""
    found: dict[int, Frame] = {}
    if not numbers:
        return found
    last = max(numbers)
    with open_capture(path) as source:
        for record in source.records():
            if record[0] in numbers:
                found[record[0]] = record_to_frame(record)
            if record[0] >= last:
                break
    return found


def ingest_live(session: Session, capture: LiveCapture, stop: threading.Event,
                on_batch: Callable[[], None] | None = None) -> None:
    """dumpcap's pcapng stream into the session until dumpcap ends or ``stop`` is set.

    Each pipe read returns what has arrived (up to ``livecapture.CHUNK``); its complete records
    go through the pipeline's bulk path (the C accelerator counts data) in one lock hold."""
    parser = CaptureParser()
    session.interfaces = parser.interfaces
    with fewer_full_collections():
        for chunk in capture.chunks():
            session.feed_records(parser.feed_walk(chunk))
            if on_batch is not None:
                on_batch()
            session.status = capture.status
            if stop.is_set():
                break
    parser.close()
    session.flush()
    session.status = capture.status
    with session.lock:
        session.pipeline.interfaces = dict(parser.interfaces)
