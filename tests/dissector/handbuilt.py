"""Hand-built wire bytes for decode tests, written from the RFC figures with struct and hex.

Deliberately independent of dissector/encode.py (the simulator's builders), so that decode tests
and the encode->decode round trips cross-check each other.
"""

from __future__ import annotations

import socket
import struct

from dissector.records import Frame

MN_COA = "2001:db8:ff::10"
MN_HOA = "2001:db8:1::10"
HA = "2001:db8:1::1"
CN = "2001:db8:2::2"


def a6(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, text)


def a4(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET, text)


def ones_complement_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = 0
    for i in range(0, len(data), 2):
        total += (data[i] << 8) | data[i + 1]
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def mh(mh_type: int, body: bytes, *, src: str, dst: str, proto: int = 59, checksum: int | None = None,
       header_len: int | None = None) -> bytes:
    """A Mobility Header: 6-byte MH header + body (fixed part and options); a final PadN/Pad1
    fills it up to a multiple of 8 when the body does not."""
    if (6 + len(body)) % 8:
        body += padn(8 - (6 + len(body)) % 8)
    total = 6 + len(body)
    hlen = total // 8 - 1 if header_len is None else header_len
    unsummed = struct.pack("!BBBBH", proto, hlen, mh_type, 0, 0) + body
    if checksum is None:
        pseudo = a6(src) + a6(dst) + struct.pack("!I3xB", len(unsummed), 135)
        checksum = ones_complement_checksum(pseudo + unsummed)
    return unsummed[:4] + struct.pack("!H", checksum) + unsummed[6:]


def ipv6(src: str, dst: str, next_header: int, payload: bytes, payload_len: int | None = None) -> bytes:
    plen = len(payload) if payload_len is None else payload_len
    return struct.pack("!IHBB", 6 << 28, plen, next_header, 64) + a6(src) + a6(dst) + payload


def ipv4(src: str, dst: str, proto: int, payload: bytes, frag: int = 0) -> bytes:
    header = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(payload), 1, frag, 64, proto, 0) + a4(src) + a4(dst)
    csum = ones_complement_checksum(header)
    return header[:10] + struct.pack("!H", csum) + header[12:] + payload


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ext(next_header: int, body: bytes) -> bytes:
    """Generic extension header: Next Header, Hdr Ext Len, body (len(body)+2 multiple of 8)."""
    assert (len(body) + 2) % 8 == 0
    return bytes([next_header, (len(body) + 2) // 8 - 1]) + body


def dest_opts_hao(next_header: int, hoa: str) -> bytes:
    """Destination Options with PadN(4) then the Home Address option at offset 6 (8n+6)."""
    return ext(next_header, b"\x01\x02\x00\x00" + b"\xc9\x10" + a6(hoa))


def routing_type2(next_header: int, hoa: str, segments_left: int = 1) -> bytes:
    return bytes([next_header, 2, 2, segments_left]) + b"\0\0\0\0" + a6(hoa)


def esp_null(spi: int, seq: int, inner: bytes, next_header: int, icv: int = 12, align: int = 4) -> bytes:
    pad = (-(len(inner) + 2)) % align
    trailer = bytes(range(1, pad + 1)) + bytes([pad, next_header])
    return struct.pack("!II", spi, seq) + inner + trailer + b"\xaa" * icv


def ethernet(payload: bytes, ethertype: int = 0x86DD, vlans: tuple[int, ...] = ()) -> bytes:
    header = bytes.fromhex("00005e005301") + bytes.fromhex("020000000001")
    for vid in vlans:
        header += struct.pack("!HH", 0x8100, vid)
    return header + struct.pack("!H", ethertype) + payload


def frame(data: bytes, linktype: int = 1, number: int = 1, wire_length: int | None = None) -> Frame:
    wire = len(data) if wire_length is None else wire_length
    return Frame(number, 1000.0 + number, 0, linktype, data, wire)


# --- MH bodies from the RFC figures ------------------------------------------------------------


def bu_body(seq: int, flags: int, lifetime_units: int) -> bytes:
    return struct.pack("!HHH", seq, flags, lifetime_units)


def ba_body(status: int, flags: int, seq: int, lifetime_units: int) -> bytes:
    return struct.pack("!BBHH", status, flags, seq, lifetime_units)


def bid(bid_value: int, status: int = 0, flags: int = 0, coa: bytes = b"", kind: int = 35) -> bytes:
    return bytes([kind, 4 + len(coa)]) + struct.pack("!HBB", bid_value, status, flags) + coa


def padn(total: int) -> bytes:
    return b"\x00" if total == 1 else bytes([1, total - 2]) + b"\0" * (total - 2)
