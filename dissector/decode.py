"""decode_frame(): a Frame in, a Packet out, never an exception.

This is the one place where the internal Truncated/Malformed exceptions become Problems (layer,
frame offset, reason). Everything the walkers read before the exception is kept, because they
write into a WalkState as they go.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from dissector.codepoints import Dialect
from dissector.errors import DecodeError
from dissector.ipv6 import WalkOptions, walk_ip, walk_ipv4, walk_ipv6
from dissector.link import parse_link
from dissector.reader import Reader
from dissector.records import Frame, MobilityMessage, Packet, PacketPath, Problem, maker
from dissector.walkstate import WalkState

_PACKET, _PATH, _MESSAGE = maker(Packet), maker(PacketPath), maker(MobilityMessage)
_new = object.__new__


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    dialect: Dialect = Dialect.RFC5648  # how to read BID flag bytes (auto is decided above)
    bid_type: int = 35  # option type of the Binding Identifier
    udp_ports: frozenset[int] = field(default_factory=lambda: frozenset({4191}))  # DSMIPv6 UDP


DEFAULT = DecodeOptions()
_U16 = struct.Struct("!H")


def decode_frame(frame: Frame, options: DecodeOptions = DEFAULT) -> Packet:
    """Decode one frame completely. Never raises on any bytes."""
    data = memoryview(frame.data)
    state = WalkState(len(data), frame.wire_length > len(data))
    walk = _walk_options(options)
    try:
        network_at, kind = _link_layer(frame, data, state)
        if kind is not None:
            reader = _new(Reader)  # Reader(data, network_at) without re-checking the buffer
            reader.buf, reader.pos, reader.end = data, network_at, len(data)
            if kind == 6:
                walk_ipv6(reader, state, walk)
            elif kind == 4:
                walk_ipv4(reader, state, walk)
            else:
                walk_ip(reader, state, walk)
    except DecodeError as exc:
        state.problems.append(Problem(exc.layer or state.layer, exc.offset, exc.reason))
    except Exception as exc:  # noqa: BLE001 - the dissector must never raise; report the bug as data
        state.problems.append(Problem(state.layer, 0, f"internal decoder error: {type(exc).__name__}: {exc}"))
    return _freeze(frame, state)


_last_walk: tuple[DecodeOptions, WalkOptions] | None = None


def _walk_options(options: DecodeOptions) -> WalkOptions:
    """The walkers' options, made once per DecodeOptions in a row (a run uses one or two)."""
    global _last_walk
    last = _last_walk
    if last is not None and last[0] is options:
        return last[1]
    walk = WalkOptions(options.dialect, options.bid_type, options.udp_ports)
    _last_walk = (options, walk)
    return walk


def _link_layer(frame: Frame, data: memoryview, state: WalkState) -> tuple[int, int | None]:
    """(offset of the network header, IP version 4/6, 0 = decide by nibble, None = not IP)."""
    raw = frame.data
    if frame.linktype == 1 and len(raw) >= 18 and type(raw) is bytes:  # Ethernet, IPv6, 0-1 802.1Q tag
        if raw[12] == 0x86 and raw[13] == 0xDD:
            state.mac_src, state.mac_dst = raw[6:12], raw[0:6]
            return 14, 6
        if raw[12] == 0x81 and raw[13] == 0 and raw[16] == 0x86 and raw[17] == 0xDD:
            state.mac_src, state.mac_dst = raw[6:12], raw[0:6]
            state.vlans = (_U16.unpack_from(raw, 14)[0] & 0x0FFF,)
            return 18, 6
    link = parse_link(frame.linktype, data)
    state.mac_src, state.mac_dst, state.vlans = link.mac_src, link.mac_dst, link.vlans
    state.problems.extend(link.problems)
    return link.offset, link.network


def _freeze(frame: Frame, state: WalkState) -> Packet:
    if state.problems_dropped:
        state.problems.append(Problem(state.layer, 0, f"{state.problems_dropped} more problems in this "
                                                      "packet not listed", "warning"))
    path = _PATH(state.src, state.dst, state.outer_src, state.outer_dst, state.tunnel, state.udp_sport,
                 state.udp_dport, state.home_address_option, state.routing_type2, state.mac_src,
                 state.mac_dst, state.vlans, state.protocol)
    mobility = None
    if state.mobility is not None:
        m = state.mobility
        mobility = _MESSAGE(m.offset, m.mh_type, m.type_name, m.payload_proto, m.header_len,
                            m.checksum, m.checksum_ok, m.body, tuple(m.options))
    return _PACKET(frame.number, frame.time, frame.interface, frame.wire_length, path, mobility,
                   state.icmp6, state.esp, state.fragment, tuple(state.problems), state.ike)
