"""Feeding a Session from a capture file or from dumpcap (run in a worker thread)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from dissector.capture import CaptureParser
from mcoaviz.livecapture import LiveCapture
from mcoaviz.sources import CaptureSourceError, open_capture
from mcoaviz.tui.session import BATCH_FRAMES, Session

RECORD_OVERHEAD = 32  # approximate bytes of block header per packet, for the progress estimate


def ingest_file(session: Session, path: str, stop: threading.Event | None = None) -> None:
    """Read a whole capture into the session; errors end up in ``session.error``."""
    try:
        with open_capture(path) as source:
            session.interfaces = source.interfaces
            if source.seekable_file:
                session.total_bytes = os.path.getsize(path)
            batch = []
            for frame in source.frames():
                batch.append(frame)
                session.bytes_read += len(frame.data) + RECORD_OVERHEAD
                if len(batch) >= BATCH_FRAMES:
                    session.feed_batch(batch)
                    batch = []
                    if stop is not None and stop.is_set():
                        return
            session.feed_batch(batch)
            session.finish(source.interfaces, source.problems, source.format)
            if session.final is not None and session.final.unreadable:
                session.error = f"cannot read {path}: {session.final.unreadable}"
    except CaptureSourceError as exc:
        session.error = str(exc)
        session.done = True


def ingest_live(session: Session, capture: LiveCapture, stop: threading.Event,
                on_batch: Callable[[], None] | None = None) -> None:
    """dumpcap's pcapng stream into the session until dumpcap ends or ``stop`` is set."""
    parser = CaptureParser()
    session.interfaces = parser.interfaces
    for chunk in capture.chunks():  # a pipe read returns what has arrived: up to 64 KiB
        frames = parser.feed(chunk)
        if frames:
            session.feed_batch(frames)
            if on_batch is not None:
                on_batch()
        session.status = capture.status
        if stop.is_set():
            break
    parser.close()
    session.status = capture.status
    with session.lock:
        session.pipeline.interfaces = dict(parser.interfaces)
