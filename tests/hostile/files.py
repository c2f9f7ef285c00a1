"""Builders of hostile captures: each one the smallest file that showed a failure of issue 13.

Kept apart from the tests so that the fuzz seeds, the benchmarks and a user reproducing a case
can build the same bytes (``python -c "from tests.hostile.files import ..."``).
"""

from __future__ import annotations

import struct

from dissector.encode import ethernet_for, ipv6_packet, mac
from dissector.encode.ip import esp_null
from dissector.encode.mobility import binding_ack, binding_update, mobility_header
from mcoaviz.simulate.pcapng import InterfaceSpec, enhanced_packet, interface_description, section_header

MN, HA = "2001:db8:1::10", "2001:db8:0:1::1"
COA = "2001:db8:ff::10"
MAC_A, MAC_B = mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02")


def block(block_type: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def idb_with(options: bytes, linktype: int = 1) -> bytes:
    return block(1, struct.pack("<HHI", linktype, 0, 0) + options + b"\0\0\0\0")


def option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def capture(frames: list[bytes], name: str = "eth0", idb: bytes | None = None) -> bytes:
    """A one-interface pcapng (microsecond stamps) holding ``frames`` one millisecond apart."""
    out = section_header() + (idb or interface_description(InterfaceSpec(name, nanoseconds=False)))
    for k, frame in enumerate(frames):
        out += enhanced_packet(0, 1_700_000_000_000_000 + 1000 * k, frame)
    return out


def bu_frame(seq: int, payload: bytes | None = None) -> bytes:
    mh = mobility_header(binding_update(seq, 100, "A", "H"))
    if payload is not None:  # replace the options with raw bytes, keeping Header Len right
        fixed = mh[:12]
        body = fixed[6:] + payload
        body += b"\0" * (-(6 + len(body)) % 8)
        mh = struct.pack("!BBBBH", 59, (6 + len(body)) // 8 - 1, 5, 0, 0) + body
    return ethernet_for(MAC_B, MAC_A, ipv6_packet(COA, HA, 135, mh, hao=MN))


def pad1_flood(messages: int, pad_bytes: int = 2030) -> bytes:
    """``messages`` Binding Updates, each a ~2 KB Mobility Header of Pad1 options."""
    return capture([bu_frame(k, b"\0" * pad_bytes) for k in range(messages)])


def undeclared_interface_flood(packets: int) -> bytes:
    """Enhanced Packet Blocks on interface 7 of a section that describes one interface."""
    epb = enhanced_packet(7, 0, b"\0" * 14)
    return capture([]) + epb * packets


def interface_flood(interfaces: int) -> bytes:
    return section_header() + idb_with(option(2, b"x" * 8)) * interfaces


def escape_names() -> bytes:
    """An interface name with ESC, OSC 0 (window title), BEL, CR, BS and C1 CSI, and data on it."""
    name = "eth\x1b[31mRED\x1b]0;pwned\x07\r\x08\u009b2J".encode()
    idb = idb_with(option(2, name) + option(9, b"\x06"))
    inner = ipv6_packet("2001:db8:c0::1", MN, 59, b"")
    from dissector.encode.ip import ip6ip6

    tunnelled = ethernet_for(MAC_B, MAC_A, ip6ip6(HA, COA, inner))
    bu = mobility_header(binding_update(1, 100, "A", "H"))
    ba = mobility_header(binding_ack(0, 1, 100))
    return capture([ethernet_for(MAC_B, MAC_A, ipv6_packet(COA, HA, 135, bu, hao=MN)),
                    ethernet_for(MAC_A, MAC_B, ipv6_packet(HA, COA, 135, ba, rh2=MN)), tunnelled], idb=idb)


def tsresol(value: int, stamp: int = (1 << 64) - 1, tsoffset: int | None = None) -> bytes:
    """One packet whose time is ``stamp`` ticks at ``if_tsresol`` ``value`` (plus ``tsoffset`` s)."""
    options = option(9, bytes((value,)))
    if tsoffset is not None:
        options += option(14, struct.pack("<q", tsoffset))
    out = section_header() + idb_with(options)
    return out + enhanced_packet(0, stamp, bu_frame(1))


def udp_esp_chain(depth: int) -> bytes:
    """IPv6 | UDP 4191 | ESP-NULL | UDP 4191 | ESP-NULL | ... ``depth`` times: no IP header inside."""
    inner = b""
    next_header = 59
    for _ in range(depth):
        esp = esp_null(1, 1, next_header, inner)
        inner = struct.pack("!HHHH", 4191, 4191, 8 + len(esp), 0) + esp
        next_header = 17
    return ethernet_for(MAC_B, MAC_A, ipv6_packet(COA, HA, 17, inner))


def short_block(length: int = 12) -> bytes:
    """A well-formed capture followed by an Enhanced Packet Block of ``length`` bytes."""
    return capture([bu_frame(1)]) + struct.pack("<II", 6, length) + b"\0" * (length - 12) + \
        struct.pack("<I", length)
