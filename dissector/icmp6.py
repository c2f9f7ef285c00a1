"""ICMPv6 messages the analysis needs: Neighbor Discovery (RFC 4861), Home Agent Address Discovery
and Mobile Prefix Solicitation/Advertisement (RFC 6275 §6.5-§6.8)."""

from __future__ import annotations

import socket

from dissector.reader import Reader
from dissector.records import Icmp6Message
from dissector.walkstate import WalkState

RS, RA, NS, NA, REDIRECT = 133, 134, 135, 136, 137
HAAD_REQUEST, HAAD_REPLY, MPS, MPA = 144, 145, 146, 147

ICMP6_NAMES: dict[int, str] = {
    1: "Destination Unreachable", 2: "Packet Too Big", 3: "Time Exceeded", 4: "Parameter Problem",
    128: "Echo Request", 129: "Echo Reply", RS: "Router Solicitation", RA: "Router Advertisement",
    NS: "Neighbor Solicitation", NA: "Neighbor Advertisement", REDIRECT: "Redirect",
    HAAD_REQUEST: "Home Agent Address Discovery Request", HAAD_REPLY: "Home Agent Address Discovery Reply",
    MPS: "Mobile Prefix Solicitation", MPA: "Mobile Prefix Advertisement",
}

_RA_FLAGS = (("M", 0x80), ("O", 0x40), ("H", 0x20))
_NA_FLAGS = (("R", 0x80), ("S", 0x40), ("O", 0x20))
_MPA_FLAGS = (("M", 0x80), ("O", 0x40))

# Bytes between the 4-byte ICMPv6 header and the ND options, per type.
_OPTIONS_AT: dict[int, int] = {RS: 4, RA: 12, NS: 20, NA: 20, REDIRECT: 36, MPA: 4}


def _letters(value: int, table: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    return tuple(letter for letter, mask in table if value & mask)


def decode_icmp6(r: Reader, state: WalkState) -> None:
    state.layer = "icmpv6"
    start = r.tell()
    kind, code = r.pull_u8(), r.pull_u8()
    r.skip(2)  # checksum
    state.icmp6 = Icmp6Message(kind, code)
    target: str | None = None
    flags: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    identifier: int | None = None
    if kind in (HAAD_REQUEST, HAAD_REPLY, MPS, MPA) and r.remaining() >= 2:
        identifier = r.peek_u8() << 8 | r.peek_u8(r.tell() + 1)
    if kind == RA:
        r.skip(1)
        flags = _letters(r.pull_u8(), _RA_FLAGS)
    elif kind in (NS, NA, REDIRECT):
        flags = _letters(r.peek_u8(), _NA_FLAGS) if kind == NA else ()
        r.skip(4)
        target = r.pull_ipv6()
    elif kind == MPA:
        r.skip(2)
        flags = _letters(r.pull_u8(), _MPA_FLAGS)
    elif kind == HAAD_REPLY:
        r.skip(4)  # identifier, reserved
        found = []
        while r.remaining() >= 16:
            found.append(r.pull_ipv6())
        addresses = tuple(found)
    state.icmp6 = Icmp6Message(kind, code, target, flags, addresses=addresses, identifier=identifier)
    if kind not in _OPTIONS_AT:
        return
    r.seek(start + 4 + _OPTIONS_AT[kind])
    source_lla, target_lla, prefixes = _nd_options(r, state)
    state.icmp6 = Icmp6Message(kind, code, target, flags, source_lla, target_lla, prefixes, addresses,
                               identifier)


def _nd_options(r: Reader, state: WalkState) -> tuple[bytes | None, bytes | None, tuple[str, ...]]:
    source_lla: bytes | None = None
    target_lla: bytes | None = None
    prefixes: list[str] = []
    while r.remaining() >= 2:
        at = r.tell()
        kind, units = r.pull_u8(), r.pull_u8()
        if units == 0:
            state.problem(at, f"ND option {kind} with Length 0")
            return source_lla, target_lla, tuple(prefixes)
        size = units * 8 - 2
        if size > r.remaining():
            state.problem(at, f"ND option {kind} Length {units * 8} runs past the message")
            return source_lla, target_lla, tuple(prefixes)
        data = r.pull_bytes(size)
        if kind == 1:
            source_lla = data
        elif kind == 2:
            target_lla = data
        elif kind == 3 and size >= 30:
            prefix = socket.inet_ntop(socket.AF_INET6, data[14:30])
            prefixes.append(f"{prefix}/{data[0]}")
    return source_lla, target_lla, tuple(prefixes)
