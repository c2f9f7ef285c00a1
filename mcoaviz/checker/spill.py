"""An append-only log of fixed-width float records kept in a temporary file (issue 8, memory).

A few history rules must keep one record per message to the end of the capture, because what
decides them may come last (MCOA315: a regular binding older than the capture is found only at
its first refresh, and then covers every earlier BU of that home address). In memory such a list
grows with the capture's length; ``FloatLog`` keeps a small buffer and writes it to an anonymous
temporary file (``rowspool.temporary_file``) each time it fills, so a state holds a constant
amount whatever the length. The records come back in the order they were appended.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import IO

from mcoaviz.rowspool import spool_error, temporary_file

BUFFERED = 1024  # records held in memory before they go to the file
READ = 1 << 16  # records read back at once


class FloatLog:
    """Records of ``width`` floats (8 bytes each, exact), appended and read back in order."""

    __slots__ = ("_buffer", "_file", "_what", "count", "width")

    def __init__(self, width: int, what: str) -> None:
        self.width = width
        self.count = 0
        self._what = what  # named in the error when no temporary file can be made
        self._buffer = array("d")
        self._file: IO[bytes] | None = None

    def append(self, *values: float) -> None:
        buffer = self._buffer
        buffer.extend(values)
        self.count += 1
        if len(buffer) >= BUFFERED * self.width:
            file = self._file
            if file is None:
                file = self._file = temporary_file("mcoaviz-log-", self._what)
            try:
                file.seek(0, 2)  # after the records, wherever a reader left the position
                buffer.tofile(file)
            except OSError as exc:  # a full TMPDIR: the same one-line message as the rows' spool
                raise spool_error(exc, self._what) from exc
            self._buffer = array("d")

    def __len__(self) -> int:
        return self.count

    def chunks(self) -> Iterator[array[float]]:
        """The records so far, in order, as flat arrays of whole records (a few thousand at a
        time, so reading them back holds no more than that). Appending may go on afterwards."""
        file = self._file
        if file is not None:
            file.flush()
            file.seek(0)
            size = READ * self.width * 8
            while True:
                block = file.read(size)
                if not block:
                    break
                chunk = array("d")
                chunk.frombytes(block)
                yield chunk
        if self._buffer:
            yield array("d", self._buffer)


class TextLog:
    """Lines of text (no newline inside) appended and read back in order, past a buffer of
    BUFFERED lines in a temporary file: records with strings in them (addresses) that would
    otherwise need a table of every string ever seen to be numbered."""

    __slots__ = ("_buffer", "_file", "_what", "count")

    def __init__(self, what: str) -> None:
        self.count = 0
        self._what = what
        self._buffer: list[str] = []
        self._file: IO[bytes] | None = None

    def append(self, line: str) -> None:
        buffer = self._buffer
        buffer.append(line)
        self.count += 1
        if len(buffer) >= BUFFERED:
            file = self._file
            if file is None:
                file = self._file = temporary_file("mcoaviz-log-", self._what)
            try:
                file.seek(0, 2)
                file.write(("\n".join(buffer) + "\n").encode())
            except OSError as exc:
                raise spool_error(exc, self._what) from exc
            buffer.clear()

    def __len__(self) -> int:
        return self.count

    def lines(self) -> Iterator[str]:
        """The lines so far, in order (read back a block at a time)."""
        file = self._file
        if file is not None:
            file.flush()
            file.seek(0)
            for raw in file:
                yield raw[:-1].decode()
        yield from list(self._buffer)


__all__ = ["FloatLog", "TextLog"]
