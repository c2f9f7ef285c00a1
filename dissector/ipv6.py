"""The IP walk: IPv6 extension headers, IPv4, tunnels, DSMIPv6 UDP encapsulation, ESP (NULL).

Each walker reads from a bounded Reader (frame offsets), fills the WalkState as it goes and hands
the upper-layer payload to mobility / icmp6. Exceptions (Truncated/Malformed) propagate to
decode_frame; non-fatal oddities are recorded as Problems on the state directly.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from socket import AF_INET6, inet_ntop

from dissector.codepoints import HOME_ADDRESS_OPTION, MOBILITY_NEXT_HEADERS, Dialect, NextHeader
from dissector.errors import Malformed, Truncated
from dissector.icmp6 import decode_icmp6
from dissector.ike import IKE_PORT, IKE_PORTS, decode_ike, is_ike
from dissector.mobility import decode_mobility
from dissector.reader import Reader
from dissector.records import EspInfo
from dissector.walkstate import WalkState

MAX_IP_HEADERS = 8  # nested tunnels beyond this are reported, not followed (bounded work per frame)
# IP headers plus UDP encapsulations and ESP layers: a chain UDP 4191 -> ESP-NULL -> UDP -> ... enters
# no IP header, so it is bounded here (else it recurses until Python's stack gives out)
MAX_NESTING = 2 * MAX_IP_HEADERS
_U16 = struct.Struct("!H")
_IPV6 = struct.Struct("!IHBB16s16s")


@dataclass(frozen=True, slots=True)
class WalkOptions:
    dialect: Dialect
    bid_type: int
    udp_ports: frozenset[int]


def walk_ip(r: Reader, state: WalkState, opts: WalkOptions, tunnel_kind: str | None = None) -> None:
    """An IP packet of either version at r.pos; the version nibble decides."""
    version = r.peek_u8() >> 4
    if version == 6:
        walk_ipv6(r, state, opts, tunnel_kind)
    elif version == 4:
        walk_ipv4(r, state, opts, tunnel_kind)
    else:
        raise Malformed(r.tell(), f"IP version {version} (expected 4 or 6)", "ip")


def _payload_end(r: Reader, state: WalkState, start: int, end: int, layer: str) -> int:
    """Clip a length field to the data, saying so unless the capture was simply snapped."""
    if end > r.end:
        if not (state.snapped and r.end >= state.frame_len):
            state.problem(start + 2 if layer == "ipv4" else start + 4,
                          f"length field says the packet ends at offset {end}, data ends at {r.end}",
                          layer=layer)
        return r.end
    return end


def walk_ipv6(r: Reader, state: WalkState, opts: WalkOptions, tunnel_kind: str | None = None) -> None:
    state.layer = "ipv6"
    start = r.pos
    if r.end - start < 40:  # let the cursor name the exact byte that is missing
        first = r.pull_u32()
        if first >> 28 != 6:
            raise Malformed(start, f"IP version {first >> 28} in an IPv6 header")
        for size in (2, 1, 1, 16, 16):  # field by field, so Truncated names the missing field
            r.pull_bytes(size)
    first, payload_len, next_header, _hop_limit, src_raw, dst_raw = _IPV6.unpack_from(r.buf, start)
    if first >> 28 != 6:
        raise Malformed(start, f"IP version {first >> 28} in an IPv6 header")
    r.pos = start + 40
    src, dst = inet_ntop(AF_INET6, src_raw), inet_ntop(AF_INET6, dst_raw)
    if state.ip_headers >= MAX_IP_HEADERS:
        raise Malformed(start, f"more than {MAX_IP_HEADERS} nested IP headers")
    state.enter_ip(src, dst, tunnel_kind)
    end = r.end if payload_len == 0 and next_header == NextHeader.HOP_BY_HOP else start + 40 + payload_len
    body = r.bounded(r.tell(), _payload_end(r, state, start, end, "ipv6"))
    _walk_next(body, state, opts, next_header, ipv6=True)


def walk_ipv4(r: Reader, state: WalkState, opts: WalkOptions, tunnel_kind: str | None = None) -> None:
    state.layer = "ipv4"
    start = r.tell()
    ver_ihl = r.pull_u8()
    header_len = (ver_ihl & 0x0F) * 4
    if ver_ihl >> 4 != 4:
        raise Malformed(start, f"IP version {ver_ihl >> 4} in an IPv4 header")
    if header_len < 20:
        raise Malformed(start, f"IHL {header_len // 4} is below the minimum of 5")
    r.skip(1)
    total_len = r.pull_u16()
    r.skip(2)
    frag = r.pull_u16()
    r.skip(1)
    protocol = r.pull_u8()
    r.skip(2)
    src, dst = r.pull_ipv4(), r.pull_ipv4()
    if state.ip_headers >= MAX_IP_HEADERS:
        raise Malformed(start, f"more than {MAX_IP_HEADERS} nested IP headers")
    state.enter_ip(src, dst, tunnel_kind)
    r.seek(start + header_len)
    if total_len < header_len:
        raise Malformed(start + 2, f"Total Length {total_len} is smaller than the header ({header_len})")
    state.protocol = protocol
    offset = (frag & 0x1FFF) * 8
    if offset or frag & 0x2000:
        state.fragment = True
        if offset:
            state.problem(start + 6, f"IPv4 fragment at offset {offset} not reassembled", "warning")
            return
        state.problem(start + 6, "first IPv4 fragment: payload decoded up to the fragment's end", "warning")
    body = r.bounded(r.tell(), _payload_end(r, state, start, start + total_len, "ipv4"))
    _walk_next(body, state, opts, protocol, ipv6=False)


# next header values as plain ints: _walk_next compares every header of every message with them
_NH_HOP, _NH_IPV4, _NH_UDP, _NH_IPV6 = 0, 4, 17, 41
_NH_ROUTING, _NH_FRAGMENT, _NH_ESP, _NH_AH, _NH_ICMPV6, _NH_DEST_OPTS = 43, 44, 50, 51, 58, 60
assert (_NH_HOP, _NH_IPV4, _NH_UDP, _NH_IPV6, _NH_ROUTING, _NH_FRAGMENT, _NH_ESP, _NH_AH, _NH_ICMPV6,
        _NH_DEST_OPTS) == (NextHeader.HOP_BY_HOP, NextHeader.IPV4, NextHeader.UDP, NextHeader.IPV6,
                           NextHeader.ROUTING, NextHeader.FRAGMENT, NextHeader.ESP, NextHeader.AH,
                           NextHeader.ICMPV6, NextHeader.DEST_OPTS)
_NH_MOBILITY = frozenset(int(value) for value in MOBILITY_NEXT_HEADERS)


def _walk_next(r: Reader, state: WalkState, opts: WalkOptions, next_header: int, ipv6: bool) -> None:
    """Follow the next-header chain inside one IP payload (the branches test distinct values, so
    their order is only for speed: a binding message's headers first)."""
    seen_headers = 0
    while True:
        state.protocol = next_header
        if next_header in _NH_MOBILITY:
            if not ipv6:
                state.problem(r.tell(), "Mobility Header inside IPv4", "warning", "mobility")
            decode_mobility(r, state, next_header, opts.bid_type, opts.dialect)
            return
        elif next_header == _NH_DEST_OPTS and ipv6:
            next_header = _destination_options(r, state)
        elif next_header == _NH_ROUTING and ipv6:
            next_header = _routing(r, state)
        elif next_header == _NH_HOP and ipv6:
            if seen_headers:
                state.problem(r.tell(), "Hop-by-Hop Options header not first", layer="hop-by-hop")
            next_header = _skip_generic(r, state, "hop-by-hop")
        elif next_header == _NH_FRAGMENT and ipv6:
            following = _fragment(r, state)
            if following is None:
                return
            next_header = following
        elif next_header == _NH_AH:
            state.layer = "ah"
            start = r.tell()
            following, length = r.pull_u8(), r.pull_u8()
            _header_end(r, start, start + (length + 2) * 4, "Authentication")
            next_header = following
        elif next_header == _NH_ESP:
            following_esp = _esp(r, state)
            if following_esp is None:
                return
            next_header, r = following_esp
        elif next_header == _NH_ICMPV6:
            decode_icmp6(r, state)
            return
        elif next_header == _NH_IPV6:
            walk_ipv6(r, state, opts, "ip6ip6" if ipv6 else "ip6ip4")
            return
        elif next_header == _NH_IPV4:
            walk_ipv4(r, state, opts, "ip4ip6" if ipv6 else "ip4ip4")
            return
        elif next_header == _NH_UDP:
            _udp(r, state, opts)
            return
        else:
            return
        seen_headers += 1


def _header_end(r: Reader, start: int, end: int, name: str) -> None:
    """Move past an extension header, or say it does not fit in the IP payload."""
    if end > r.end:
        raise Truncated(start + 1, f"{name} header ({end - start} bytes by its Hdr Ext Len) runs "
                                   f"{end - r.end} bytes past the IP payload")
    r.seek(end)


def _skip_generic(r: Reader, state: WalkState, layer: str) -> int:
    state.layer = layer
    start = r.tell()
    following, length = r.pull_u8(), r.pull_u8()
    _header_end(r, start, start + (length + 1) * 8, layer)
    return following


def _destination_options(r: Reader, state: WalkState) -> int:
    """Every BU from a care-of address carries one (the Home Address option): the options are
    read by indexing the buffer, no Reader call per byte; a header whose first two bytes are
    missing goes through the Reader, which names the byte."""
    state.layer = "dest-options"
    start = r.pos
    if start + 2 > r.end:
        r.pull_u8()
        r.pull_u8()
    buf = r.buf
    following, length = buf[start], buf[start + 1]
    end = start + (length + 1) * 8
    header_cut = end > r.end  # reported once, by _header_end
    pos, stop = start + 2, max(0, min(end, r.end))  # the options: r.bounded(start + 2, end)
    while pos < stop:
        at = pos
        kind = buf[pos]
        pos += 1
        if kind == 0:  # Pad1
            continue
        if pos >= stop or buf[pos] > stop - pos - 1:
            if not header_cut:
                state.problem(at, f"option {kind} runs past the end of the header")
            break
        size = buf[pos]
        pos += 1
        if kind == HOME_ADDRESS_OPTION:
            if size != 16:
                state.problem(at, f"Home Address option Length {size}, must be 16")
                break  # the rest of the header cannot be trusted
            if (at - start) % 8 != 6:
                state.problem(at, f"Home Address option at header offset {at - start} is misaligned "
                                  "(needs 8n+6)", "warning")
            if state.home_address_option is not None:
                state.problem(at, "more than one Home Address option", "warning")
            state.home_address_option = inet_ntop(AF_INET6, buf[pos : pos + 16])  # fits: checked above
        # PadN and options we do not need are skipped (the Length fits: checked above)
        pos += size
    _header_end(r, start, end, "Destination Options")
    return following


def _routing(r: Reader, state: WalkState) -> int:
    state.layer = "routing"
    start = r.pos
    whole = start + 24 <= r.end  # a whole type 2 header's worth of bytes: read them by indexing
    if whole:
        buf = r.buf
        following, length, rtype, segments_left = buf[start], buf[start + 1], buf[start + 2], buf[start + 3]
    else:  # the Reader says where it runs out
        following, length, rtype, segments_left = r.pull_u8(), r.pull_u8(), r.pull_u8(), r.pull_u8()
    if rtype == 2:
        if length != 2:
            state.problem(start + 1, f"type 2 routing header Hdr Ext Len {length}, must be 2")
        if segments_left != 1:
            state.problem(start + 3, f"type 2 routing header Segments Left {segments_left}, must be 1")
        if length >= 2:
            if whole:
                state.routing_type2 = inet_ntop(AF_INET6, r.buf[start + 8 : start + 24])
            else:
                r.skip(4)
                state.routing_type2 = r.pull_ipv6()
    _header_end(r, start, start + (length + 1) * 8, "Routing")
    return following


def _fragment(r: Reader, state: WalkState) -> int | None:
    state.layer = "fragment"
    start = r.tell()
    following = r.pull_u8()
    r.skip(1)
    word = r.pull_u16()
    r.skip(4)
    offset, more = (word >> 3) * 8, word & 1
    state.fragment = True
    if offset:
        state.problem(start + 2, f"IPv6 fragment at offset {offset} not reassembled", "warning")
        return None
    if more:
        state.problem(start + 2, "first IPv6 fragment: payload decoded up to the fragment's end", "warning")
    else:
        state.fragment = False  # an atomic fragment (offset 0, M=0) is a whole packet
    return following


def _udp(r: Reader, state: WalkState, opts: WalkOptions) -> None:
    state.layer = "udp"
    start = r.tell()
    sport, dport, length = r.pull_u16(), r.pull_u16(), r.pull_u16()
    r.skip(2)
    if (sport in IKE_PORTS or dport in IKE_PORTS) and is_ike(sport, dport, r):
        if 8 <= length and start + length < r.end:
            r = r.bounded(r.tell(), start + length)
        decode_ike(r, state, IKE_PORT not in (sport, dport))
        return
    if sport not in opts.udp_ports and dport not in opts.udp_ports:
        return
    if length < 8:
        state.problem(start + 4, f"UDP Length {length} is below 8")
    elif start + length < r.end:
        r = r.bounded(r.tell(), start + length)
    if r.eof():
        return
    state.udp_sport, state.udp_dport = sport, dport
    _enter_encapsulation(state, start, "UDP encapsulation")
    version = r.peek_u8() >> 4
    if version in (4, 6):
        walk_ip(r, state, opts, "udp")
    elif r.remaining() == 1 and r.peek_u8() == 0xFF:
        return  # NAT keepalive
    else:
        following = _esp(r, state)
        if following is not None:
            next_header, inner = following
            state.protocol = next_header
            _walk_next_after_udp_esp(inner, state, opts, next_header)


def _walk_next_after_udp_esp(r: Reader, state: WalkState, opts: WalkOptions, next_header: int) -> None:
    if next_header == NextHeader.IPV6:
        walk_ipv6(r, state, opts, "udp")
    elif next_header == NextHeader.IPV4:
        walk_ipv4(r, state, opts, "udp")
    else:
        _walk_next(r, state, opts, next_header, ipv6=True)


def _esp(r: Reader, state: WalkState) -> tuple[int, Reader] | None:
    """ESP header; when the payload is plainly ESP-NULL, the inner next header and its reader."""
    state.layer = "esp"
    start = r.tell()
    spi, sequence = r.pull_u32(), r.pull_u32()
    _enter_encapsulation(state, start, "ESP")
    found = esp_null_payload(r.buf, r.tell(), r.end)
    state.esp = EspInfo(spi, sequence, found is not None)
    if found is None:
        return None
    next_header, inner_end = found
    return next_header, r.bounded(r.tell(), inner_end)


def _enter_encapsulation(state: WalkState, start: int, what: str) -> None:
    state.encapsulations += 1
    if state.ip_headers + state.encapsulations > MAX_NESTING:
        raise Malformed(start, f"{what} nested more than {MAX_NESTING} layers deep (IP, UDP, ESP)")


_ICV_LENGTHS = (12, 16, 0, 24, 32)  # HMAC-SHA1-96/MD5-96, SHA-256-128, none, SHA-384/512
_ICMP6_TYPES = frozenset({1, 2, 3, 4, 128, 129, 133, 134, 135, 136, 137, 144, 145, 146, 147})


def esp_null_payload(buf: memoryview, start: int, end: int) -> tuple[int, int] | None:
    """Wireshark-style heuristic: trailer pad bytes 1, 2, 3..., Pad Length and Next Header consistent
    with an ICV of a usual length, and an inner header whose own length field fits exactly."""
    for icv in _ICV_LENGTHS:
        trailer = end - icv - 2
        if trailer < start:
            continue
        pad_len, next_header = buf[trailer], buf[trailer + 1]
        inner_end = trailer - pad_len
        if inner_end < start:
            continue
        if any(buf[inner_end + i] != i + 1 for i in range(pad_len)):
            continue
        if _plausible_inner(buf, start, inner_end, next_header):
            return next_header, inner_end
    return None


def _plausible_inner(buf: memoryview, start: int, end: int, next_header: int) -> bool:
    size = end - start
    if next_header in MOBILITY_NEXT_HEADERS:
        return size >= 8 and (buf[start + 1] + 1) * 8 == size
    if next_header == NextHeader.IPV6:
        return size >= 40 and buf[start] >> 4 == 6 and _U16.unpack_from(buf, start + 4)[0] + 40 == size
    if next_header == NextHeader.IPV4:
        return size >= 20 and buf[start] >> 4 == 4 and _U16.unpack_from(buf, start + 2)[0] == size
    if next_header == NextHeader.UDP:
        return size >= 8 and _U16.unpack_from(buf, start + 4)[0] == size
    if next_header == NextHeader.ICMPV6:
        return size >= 4 and buf[start] in _ICMP6_TYPES
    if next_header == NextHeader.NO_NEXT:
        return size == 0
    return False
