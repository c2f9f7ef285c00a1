"""Builders for pcap / pcapng byte strings, written from the file-format specs for the tests."""

from __future__ import annotations

import struct

PCAP_USEC = 0xA1B2C3D4
PCAP_NSEC = 0xA1B23C4D
PCAP_MODIFIED = 0xA1B2CD34


def pcap_file(
    packets: list[tuple[int, int, bytes, int]],
    *,
    magic: int = PCAP_USEC,
    order: str = "<",
    linktype: int = 1,
    snaplen: int = 65535,
) -> bytes:
    """``packets``: (seconds, fraction in the magic's unit, data, wire length)."""
    out = bytearray(
        struct.pack(order + "IHHiII", magic, 2, 4, 0, 0, snaplen) + struct.pack(order + "I", linktype)
    )
    for sec, frac, data, wirelen in packets:
        out += struct.pack(order + "IIII", sec, frac, len(data), wirelen)
        if magic == PCAP_MODIFIED:
            out += struct.pack(order + "IHBB", 7, 0x86DD, 0, 0)
        out += data
    return bytes(out)


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def block(order: str, btype: int, body: bytes) -> bytes:
    body = _pad(body)
    length = 12 + len(body)
    return struct.pack(order + "II", btype, length) + body + struct.pack(order + "I", length)


def option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + _pad(value)


def options(order: str, opts: list[tuple[int, bytes]]) -> bytes:
    if not opts:
        return b""
    return b"".join(option(order, c, v) for c, v in opts) + option(order, 0, b"")


def shb(order: str = "<", opts: list[tuple[int, bytes]] | None = None) -> bytes:
    body = struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1) + options(order, opts or [])
    return block(order, 0x0A0D0D0A, body)


def idb(
    order: str = "<",
    linktype: int = 1,
    snaplen: int = 0,
    *,
    name: str | None = None,
    description: str | None = None,
    tsresol: int | None = None,
    tsoffset: int | None = None,
) -> bytes:
    opts: list[tuple[int, bytes]] = []
    if name is not None:
        opts.append((2, name.encode()))
    if description is not None:
        opts.append((3, description.encode()))
    if tsresol is not None:
        opts.append((9, bytes([tsresol])))
    if tsoffset is not None:
        opts.append((14, struct.pack(order + "q", tsoffset)))
    return block(order, 1, struct.pack(order + "HHI", linktype, 0, snaplen) + options(order, opts))


def epb(order: str, interface: int, units: int, data: bytes, wirelen: int | None = None) -> bytes:
    head = struct.pack(
        order + "IIIII",
        interface,
        units >> 32,
        units & 0xFFFFFFFF,
        len(data),
        len(data) if wirelen is None else wirelen,
    )
    return block(order, 6, head + data)


def spb(order: str, data: bytes, wirelen: int | None = None) -> bytes:
    return block(order, 3, struct.pack(order + "I", len(data) if wirelen is None else wirelen) + data)


def obsolete_pb(order: str, interface: int, units: int, data: bytes) -> bytes:
    head = struct.pack(order + "HHIIII", interface, 0, units >> 32, units & 0xFFFFFFFF, len(data), len(data))
    return block(order, 2, head + data)


def packet(n: int, size: int = 60) -> bytes:
    """Distinct, recognisable packet bytes."""
    return bytes((n + i) & 0xFF for i in range(size))
