"""Simple IPv6 fragment reassembly, sans-IO: fragments in, whole frames out.

decode_frame is stateless and reports a fragment as ``Packet.fragment``; a caller that wants the
inside offers those frames here. When the last missing piece arrives, ``offer`` returns a
synthetic Frame (the first fragment's link and unfragmentable headers, Payload Length fixed, the
Fragment header removed, the pieces joined) numbered and timed like the completing frame, as
Wireshark does. Memory is bounded: at most ``max_pending`` datagrams, each at most 64 KiB,
dropped after ``timeout`` seconds of capture time (RFC 8200 §4.5 uses 60 s). Overlapping
fragments are refused (RFC 5722), the datagram is dropped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from dissector.link import parse_link
from dissector.records import Frame

_EXTENSIONS_BEFORE_FRAGMENT = frozenset({0, 43, 60})
MAX_DATAGRAM = 65535


@dataclass(slots=True)
class _Pending:
    first_time: float
    head: bytes | None = None  # link + IPv6 + unfragmentable headers of the offset-0 fragment
    ip_at: int = 0  # offset of the IPv6 header in ``head``
    next_header_at: int = 0  # where in ``head`` the Next Header byte before the Fragment header is
    next_header: int = 0
    pieces: dict[int, bytes] = field(default_factory=dict)
    total: int | None = None  # known once the last fragment (M = 0) is seen


@dataclass(frozen=True, slots=True)
class _Fragment:
    key: tuple[int, bytes, bytes, int]  # interface, src, dst, identification
    head: bytes
    ip_at: int
    next_header_at: int
    next_header: int
    offset: int
    more: bool
    data: bytes


class Reassembler:
    def __init__(self, max_pending: int = 1024, timeout: float = 60.0) -> None:
        self.max_pending = max_pending
        self.timeout = timeout
        self._pending: dict[tuple[int, bytes, bytes, int], _Pending] = {}
        self.dropped = 0  # datagrams given up (timeout, overlap, too big, table full)

    @property
    def pending(self) -> int:
        """Datagrams still waiting for fragments."""
        return len(self._pending)

    @staticmethod
    def is_fragment(frame: Frame) -> bool:
        """Whether ``offer`` would take this frame (an IPv6 fragment that is not atomic)."""
        return _parse(frame) is not None

    def offer(self, frame: Frame) -> Frame | None:
        """A whole datagram when ``frame`` completes one, else None. Never raises."""
        fragment = _parse(frame)
        if fragment is None:
            return None
        self._expire(frame.time)
        pending = self._pending.get(fragment.key)
        if pending is None:
            if len(self._pending) >= self.max_pending:
                self._pending.pop(next(iter(self._pending)))
                self.dropped += 1
            pending = self._pending[fragment.key] = _Pending(frame.time)
        if not self._add(pending, fragment):
            del self._pending[fragment.key]
            self.dropped += 1
            return None
        whole = _complete(pending)
        if whole is None:
            return None
        del self._pending[fragment.key]
        return Frame(frame.number, frame.time, frame.interface, frame.linktype, whole, len(whole))

    def _add(self, pending: _Pending, fragment: _Fragment) -> bool:
        end = fragment.offset + len(fragment.data)
        if end > MAX_DATAGRAM or (fragment.more and len(fragment.data) % 8):
            return False
        for start, data in pending.pieces.items():
            if start < end and fragment.offset < start + len(data):
                return start == fragment.offset and data == fragment.data  # exact duplicate is fine
        pending.pieces[fragment.offset] = fragment.data
        if fragment.offset == 0:
            pending.head, pending.ip_at = fragment.head, fragment.ip_at
            pending.next_header_at = fragment.next_header_at
            pending.next_header = fragment.next_header
        if not fragment.more:
            pending.total = end
        return True

    def _expire(self, now: float) -> None:
        stale = [key for key, p in self._pending.items() if now - p.first_time > self.timeout]
        for key in stale:
            del self._pending[key]
            self.dropped += 1


def _complete(pending: _Pending) -> bytes | None:
    if pending.total is None or pending.head is None:
        return None
    joined = bytearray()
    for start in sorted(pending.pieces):
        if start != len(joined):
            return None  # a hole
        joined += pending.pieces[start]
    if len(joined) != pending.total:
        return None
    head = bytearray(pending.head)
    head[pending.next_header_at] = pending.next_header
    payload_length = len(head) - pending.ip_at - 40 + len(joined)
    if payload_length > 0xFFFF:
        return None
    struct.pack_into("!H", head, pending.ip_at + 4, payload_length)
    return bytes(head + joined)


def _parse(frame: Frame) -> _Fragment | None:
    data = frame.data
    link = parse_link(frame.linktype, data)
    at = link.offset
    if link.network not in (6, 0) or len(data) < at + 40 or data[at] >> 4 != 6:
        return None
    next_header = data[at + 6]
    header_at = at + 6  # the byte holding the Next Header value that points at the current header
    pos = at + 40
    end = min(len(data), pos + int.from_bytes(data[at + 4 : at + 6], "big"))
    while next_header in _EXTENSIONS_BEFORE_FRAGMENT:
        if pos + 2 > end:
            return None
        header_at = pos
        next_header = data[pos]
        pos += (data[pos + 1] + 1) * 8
    if next_header != 44 or pos + 8 > end:
        return None
    word = int.from_bytes(data[pos + 2 : pos + 4], "big")
    offset, more = (word >> 3) * 8, bool(word & 1)
    if offset == 0 and not more:
        return None  # atomic fragment: decode_frame already decodes it whole
    identification = int.from_bytes(data[pos + 4 : pos + 8], "big")
    key = (frame.interface, bytes(data[at + 8 : at + 24]), bytes(data[at + 24 : at + 40]), identification)
    payload = bytes(data[pos + 8 : end])
    return _Fragment(key, bytes(data[:pos]), at, header_at, data[pos], offset, more, payload)
