"""The only place mcoaviz reads input: a capture file, ``-`` for stdin, or any pipe.

Regular files are memory-mapped and walked in place (the fast path never copies packet
bytes it does not keep); pipes and stdin are read in chunks as data arrives and parsed
incrementally, so ``dumpcap -w - | mcoaviz decode -`` shows packets while they are captured.
Failing to open or read raises :class:`CaptureSourceError`, whose message is one line the
CLI prints before exiting with status 2.
"""

from __future__ import annotations

import mmap
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from dissector.capture import CaptureParser, RawRecord, frame_to_record, record_to_frame
from dissector.records import Frame, Interface, Problem

CHUNK_SIZE = 64 * 1024


class CaptureSourceError(Exception):
    """The input cannot be opened or read; ``str(error)`` is a one-line explanation."""


class CaptureSource:
    """An opened capture: iterate ``frames()`` (or ``records()`` for the bulk path) once."""

    def __init__(self, name: str, fd: int, owns_fd: bool, chunk_size: int = CHUNK_SIZE) -> None:
        self.name = name
        self.parser = CaptureParser()
        self._fd = fd
        self._owns_fd = owns_fd
        self._chunk_size = chunk_size
        self._map: mmap.mmap | None = None
        self._used = False
        try:
            mode = os.fstat(fd).st_mode
        except OSError as exc:
            raise CaptureSourceError(f"cannot read {name}: {exc.strerror or exc}") from None
        if stat.S_ISDIR(mode):
            raise CaptureSourceError(f"cannot read {name}: it is a directory")
        self.seekable_file = stat.S_ISREG(mode)

    # ------------------------------------------------------------------ what was read

    @property
    def interfaces(self) -> dict[int, Interface]:
        return self.parser.interfaces

    @property
    def problems(self) -> list[Problem]:
        """Capture-level problems: unknown format, corrupt blocks, a truncated tail."""
        return self.parser.problems

    @property
    def format(self) -> str | None:
        return self.parser.format

    @property
    def size(self) -> int | None:
        """The file's size in bytes (None for pipes and stdin)."""
        return os.fstat(self._fd).st_size if self.seekable_file else None

    # ------------------------------------------------------------------ iteration

    def frames(self) -> Iterator[Frame]:
        """Every frame, in capture order, as soon as its bytes have arrived."""
        if self.seekable_file:
            for record in self.records():
                yield record_to_frame(record)
            return
        self._claim()
        yield from self._stream_frames()

    def records(self) -> Iterator[RawRecord]:
        """Raw records ``(number, time, interface, linktype, buffer, offset, caplen, wire_length)``.

        For regular files ``buffer`` is a memory map of the file, valid until :meth:`close`,
        and the iterator is the parser's own record walk (no extra generator layer).
        """
        self._claim()
        if not self.seekable_file:
            return (frame_to_record(frame) for frame in self._stream_frames())
        size = os.fstat(self._fd).st_size
        if size == 0:
            self.parser.close()
            return iter(())
        try:
            self._map = mmap.mmap(self._fd, size, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise CaptureSourceError(f"cannot read {self.name}: {exc}") from None
        return self.parser.records(self._map)

    def _stream_frames(self) -> Iterator[Frame]:
        feed = self.parser.feed
        while True:
            try:
                chunk = os.read(self._fd, self._chunk_size)
            except OSError as exc:
                raise CaptureSourceError(f"cannot read {self.name}: {exc.strerror or exc}") from None
            if not chunk:
                break
            yield from feed(chunk)
            if self.parser.stopped:  # not a capture, or corrupt: reading on (/dev/zero) never ends
                break
        self.parser.close()

    def _claim(self) -> None:
        if self._used:
            raise RuntimeError("a CaptureSource can be iterated only once")
        self._used = True

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a caller still holds a view into the map; let GC finish it
                pass
            self._map = None
        if self._owns_fd and self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> CaptureSource:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_capture(path: str | os.PathLike[str], chunk_size: int = CHUNK_SIZE) -> CaptureSource:
    """Open a capture file, ``-`` (stdin) or a named pipe / character device for reading."""
    name = os.fspath(path)
    if name == "-":
        return CaptureSource("<stdin>", sys.stdin.buffer.fileno(), owns_fd=False, chunk_size=chunk_size)
    try:
        fd = os.open(name, os.O_RDONLY)
    except FileNotFoundError:
        raise CaptureSourceError(f"cannot read {name}: no such file") from None
    except PermissionError:
        raise CaptureSourceError(f"cannot read {name}: permission denied") from None
    except OSError as exc:
        raise CaptureSourceError(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        return CaptureSource(name, fd, owns_fd=True, chunk_size=chunk_size)
    except CaptureSourceError:
        os.close(fd)
        raise


def read_frames(path: str | Path) -> tuple[list[Frame], CaptureSource]:
    """Convenience for small captures and tests: every frame plus the (closed) source."""
    with open_capture(path) as source:
        return list(source.frames()), source
