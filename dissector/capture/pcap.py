"""Classic libpcap files: the 24-byte file header and the per-packet record walk.

Four magics are accepted in either byte order: microsecond (0xa1b2c3d4), nanosecond
(0xa1b23c4d) and Alexey Kuznetzov's modified microsecond format (0xa1b2cd34, 24-byte
record headers). The record walk is a generator over any buffer ``struct`` can read
(bytes, bytearray, mmap, memoryview), so the same code serves streaming and whole files.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from dissector.capture.limits import MAX_RECORD_LENGTH, RawRecord, WalkEnded
from dissector.records import Interface, Problem

FILE_HEADER_LENGTH = 24

# magic as read little-endian -> (byte order, seconds per fraction unit, record header length)
_MAGICS: dict[int, tuple[str, float, int]] = {
    0xA1B2C3D4: ("<", 1e-6, 16),
    0xD4C3B2A1: (">", 1e-6, 16),
    0xA1B23C4D: ("<", 1e-9, 16),
    0x4D3CB2A1: (">", 1e-9, 16),
    0xA1B2CD34: ("<", 1e-6, 24),
    0x34CDB2A1: (">", 1e-6, 24),
}


def is_pcap_magic(head: bytes) -> bool:
    return len(head) >= 4 and struct.unpack_from("<I", head)[0] in _MAGICS


class PcapReader:
    """State of one pcap file after its header: byte order, time unit, link type."""

    def __init__(self, header: bytes) -> None:
        order, unit, record_header = _MAGICS[struct.unpack_from("<I", header)[0]]
        self.unit = unit
        self.record_header_length = record_header
        _, _, _, _, snaplen, network = struct.unpack_from(order + "HHiIII", header, 4)
        self.snaplen = snaplen
        self.linktype = network & 0xFFFF  # the upper bits carry FCS hints, not the link type
        self.interface = Interface(id=0, linktype=self.linktype, ts_resolution=unit)
        self._record = struct.Struct(order + "IIII")
        self.big_endian = order == ">"
        # set by RecordWalk.accelerate before a walk starts; taken (and cleared) when it does
        self.accelerator: Any = None
        self.pos = 0  # buffer offset after the last record yielded (set when a walk ends)
        self.number = 0
        self.fatal: Problem | None = None

    def scan(
        self, buf: object, pos: int, end: int, number: int, base: int, on_end: WalkEnded | None = None
    ) -> Iterator[RawRecord]:
        """Yield every complete record in ``buf[pos:end]``; ``number`` is the last frame number.

        ``base`` is the file offset of ``buf[0]`` (for problem offsets). When the walk ends
        (or the consumer stops), ``self.pos`` is the offset just after the last record yielded
        and ``self.number`` its frame number: no per-record attribute writes on the hot path.
        """
        unpack = self._record.unpack_from
        unit = self.unit
        linktype = self.linktype
        header = self.record_header_length
        limit = end - header
        completed = True  # False when the consumer stops early (no end-of-input checks then)
        accelerator, self.accelerator = self.accelerator, None
        try:
            while pos <= limit:
                if accelerator is not None:  # counts records itself, stops before others
                    pos, number = accelerator.pcap(
                        buf, pos, end, number, header, self.big_endian, unit, linktype
                    )
                    if pos > limit:
                        break
                sec, frac, caplen, wirelen = unpack(buf, pos)  # type: ignore[arg-type]
                data = pos + header
                nxt = data + caplen
                if nxt > end:
                    if caplen > MAX_RECORD_LENGTH:
                        self.fatal = Problem(
                            "pcap", base + pos, f"record length {caplen} is implausible; file is corrupt here"
                        )
                    return
                number += 1
                pos = nxt  # before the yield: the finally clause must see the record as consumed
                yield (number, sec + frac * unit, 0, linktype, buf, data, caplen, wirelen)
        except GeneratorExit:
            completed = False
            raise
        finally:
            self.pos = pos
            self.number = number
            if on_end is not None:
                on_end(completed)

    def describe_tail(self, buf: object, pos: int, end: int) -> str:
        """Why the bytes left at the end of input do not make a record."""
        have = end - pos
        if have < self.record_header_length:
            return f"incomplete pcap record header ({have} of {self.record_header_length} bytes)"
        caplen = self._record.unpack_from(buf, pos)[2]  # type: ignore[arg-type]
        need = self.record_header_length + caplen
        return f"incomplete pcap record ({have} of {need} bytes)"
