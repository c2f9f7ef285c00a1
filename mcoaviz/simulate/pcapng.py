"""A small deterministic pcapng writer (SHB, one IDB per capture point, EPBs).

No clocks, hostnames or random values go into the file: the same frames give the same bytes.
Timestamps are integer counts of the interface's resolution (``if_tsresol`` 9 = nanoseconds,
6 = microseconds), so callers pass times as integer nanoseconds to avoid float rounding.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

SHB_TYPE, IDB_TYPE, EPB_TYPE = 0x0A0D0D0A, 0x00000001, 0x00000006
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPT_END, OPT_COMMENT = 0, 1
IF_NAME, IF_DESCRIPTION, IF_TSRESOL = 2, 3, 9
SHB_USERAPPL = 4


@dataclass(frozen=True, slots=True)
class InterfaceSpec:
    name: str
    linktype: int = 1  # Ethernet
    description: str | None = None
    nanoseconds: bool = True
    snaplen: int = 65535


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(block_type: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def section_header(application: str = "mcoaviz simulate") -> bytes:
    options = _option(SHB_USERAPPL, application.encode()) + _option(OPT_END, b"")
    return _block(SHB_TYPE, struct.pack("<IHHq", BYTE_ORDER_MAGIC, 1, 0, -1) + options)


def interface_description(spec: InterfaceSpec) -> bytes:
    options = _option(IF_NAME, spec.name.encode())
    if spec.description:
        options += _option(IF_DESCRIPTION, spec.description.encode())
    options += _option(IF_TSRESOL, bytes((9 if spec.nanoseconds else 6,)))
    options += _option(OPT_END, b"")
    return _block(IDB_TYPE, struct.pack("<HHI", spec.linktype, 0, spec.snaplen) + options)


def enhanced_packet(
    interface: int,
    timestamp: int,
    data: bytes,
    *,
    original_length: int | None = None,
    comment: str | None = None,
) -> bytes:
    """EPB; ``timestamp`` in units of the interface's resolution."""
    body = struct.pack(
        "<IIIII",
        interface,
        timestamp >> 32,
        timestamp & 0xFFFFFFFF,
        len(data),
        len(data) if original_length is None else original_length,
    )
    body += data + b"\0" * (-len(data) % 4)
    if comment:
        body += _option(OPT_COMMENT, comment.encode()) + _option(OPT_END, b"")
    return _block(EPB_TYPE, body)


class PcapngWriter:
    """Write a section header and interfaces up front, then frames in order."""

    def __init__(self, stream: BinaryIO, interfaces: Iterable[InterfaceSpec]) -> None:
        self._stream = stream
        self.interfaces = list(interfaces)
        stream.write(section_header())
        for spec in self.interfaces:
            stream.write(interface_description(spec))

    def write(self, interface: int, time_ns: int, data: bytes, *, comment: str | None = None) -> None:
        spec = self.interfaces[interface]
        stamp = time_ns if spec.nanoseconds else time_ns // 1000
        self._stream.write(enhanced_packet(interface, stamp, data, comment=comment))
