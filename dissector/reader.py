"""A bounded cursor over a frame. Positions are absolute frame offsets, so every exception and
Problem can name the exact byte; ``end`` bounds the current layer (e.g. the IPv6 payload)."""

from __future__ import annotations

import socket
import struct

from dissector.errors import Truncated

_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_new = object.__new__


class Reader:
    __slots__ = ("buf", "pos", "end")

    def __init__(self, buf: bytes | memoryview, pos: int = 0, end: int | None = None) -> None:
        self.buf = buf if isinstance(buf, memoryview) else memoryview(buf)
        size = len(self.buf)
        self.end = size if end is None else max(0, min(end, size))
        self.pos = pos

    # ------------------------------------------------------------------ position
    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int) -> None:
        if pos < 0 or pos > self.end:
            raise Truncated(self.pos, f"cannot move to offset {pos}: data ends at {self.end}")
        self.pos = pos

    def skip(self, count: int) -> None:
        self.seek(self.pos + count)

    def eof(self) -> bool:
        return self.pos >= self.end

    def remaining(self) -> int:
        return max(0, self.end - self.pos)

    def bounded(self, start: int, end: int) -> Reader:
        """A reader over [start, end), clipped to this reader's end."""
        reader = _new(Reader)  # Reader(self.buf, start, end) without re-checking the buffer
        reader.buf, reader.pos, reader.end = self.buf, start, max(0, min(end, self.end))
        return reader

    # ------------------------------------------------------------------ pulls
    def _need(self, count: int) -> int:
        start = self.pos
        if start + count > self.end:
            have = max(0, self.end - start)
            raise Truncated(start, f"need {count} bytes at offset {start}, only {have} left")
        self.pos = start + count
        return start

    def pull_u8(self) -> int:
        return self.buf[self._need(1)]

    def pull_u16(self) -> int:
        return _U16.unpack_from(self.buf, self._need(2))[0]

    def pull_u32(self) -> int:
        return _U32.unpack_from(self.buf, self._need(4))[0]

    def pull_bytes(self, count: int) -> bytes:
        start = self._need(count)
        return bytes(self.buf[start : start + count])

    def pull_ipv6(self) -> str:
        return socket.inet_ntop(socket.AF_INET6, self.pull_bytes(16))

    def pull_ipv4(self) -> str:
        return socket.inet_ntop(socket.AF_INET, self.pull_bytes(4))

    def peek_u8(self, at: int | None = None) -> int:
        where = self.pos if at is None else at
        if where >= self.end or where < 0:
            raise Truncated(where, f"need 1 byte at offset {where}, data ends at {self.end}")
        return self.buf[where]
