"""decode_frame(): a Frame in, a Packet out, never an exception.

This is the one place where the internal Truncated/Malformed exceptions become Problems (layer,
frame offset, reason). Everything the walkers read before the exception is kept, because they
write into a WalkState as they go.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field
from typing import Any

from dissector.codepoints import Dialect, NextHeader
from dissector.errors import DecodeError
from dissector.ipv6 import WalkOptions, walk_ip, walk_ipv4, walk_ipv6
from dissector.link import parse_link
from dissector.mobility import decode_mobility
from dissector.reader import Reader
from dissector.records import (
    BindingAck,
    BindingUpdate,
    Frame,
    MobilityMessage,
    Packet,
    PacketPath,
    Problem,
    maker,
)
from dissector.walkstate import WalkState

_PACKET, _PATH, _MESSAGE = maker(Packet), maker(PacketPath), maker(MobilityMessage)
_BINDING_UPDATE, _BINDING_ACK = maker(BindingUpdate), maker(BindingAck)
_new = object.__new__


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    dialect: Dialect = Dialect.RFC5648  # how to read BID flag bytes (auto is decided above)
    bid_type: int = 35  # option type of the Binding Identifier
    udp_ports: frozenset[int] = field(default_factory=lambda: frozenset({4191}))  # DSMIPv6 UDP
    # keep problem-free BU/BA for their repeats (``_REPEATS``, up to ~20 MB): every pipeline sets
    # it (a home agent's refreshes are most of its signalling); off for one-off decoding
    repeats: bool = False


DEFAULT = DecodeOptions()
_U16 = struct.Struct("!H")


def decode_frame(frame: Frame, options: DecodeOptions = DEFAULT) -> Packet:
    """Decode one frame completely. Never raises on any bytes.

    With ``options.repeats``, a frame that equals one decoded before except in its Mobility
    Header's Checksum and Sequence Number (``_REPEATS``) is made from that one's records, and
    one whose bytes before the Mobility Header equal those of one decoded before (``_PREFIXES``)
    gets that one's path and only its MH decoded (``decode_frame_fully`` is the reference)."""
    data = frame.data
    if options.repeats and type(data) is bytes:
        shape = _SHAPES.get((frame.linktype, len(data)))
        key = None
        if shape is not None:
            key = _key(frame, data, options, *shape)
            known = _REPEATS.get(key)
            if known is not None and known[0] is options:
                packet = _repeat(frame, data, known, shape)
                if packet is not None:
                    return packet
        mh = _MH_AT.get((frame.linktype, len(data)))
        prefix = None
        if mh is not None:
            prefix = _prefix_key(frame, data, options, mh)
            template = _PREFIXES.get(prefix)
            if template is not None and template[0] is options:
                packet = _after_prefix(frame, data, options, template[1])
            else:
                packet = decode_frame_fully(frame, options)
        else:
            packet = decode_frame_fully(frame, options)
        m = packet.mobility
        if m is not None and not packet.problems:
            _keep(frame, data, options, packet, m, shape, key, mh, prefix)
        return packet
    return decode_frame_fully(frame, options)


def decode_frame_fully(frame: Frame, options: DecodeOptions = DEFAULT) -> Packet:
    """``decode_frame`` without the repeat cache: every layer walked."""
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


# A mobile node's refresh BUs and its home agent's BAs repeat their frames byte for byte, apart
# from the Mobility Header's Checksum and Sequence Number (and the frame's number and time). The
# decoder reads those two fields only as values (the checksum is verified, the sequence number
# kept), so such a frame decodes like the first one but for them: its records are made from that
# one's (path, options, flags shared). Only problem-free BU/BA with a correct checksum are kept.
# Key: (id of the DecodeOptions, link type, snapped, MH offset, Sequence offset, the frame's bytes
# without those two fields); value: (the DecodeOptions, the packet, the checksum's sum without the
# Sequence Number, ``_partial_sum``). The shape of the last frame kept per (link type, length)
# says which bytes to leave out of a new frame's key.
_REPEATS: dict[tuple[Any, ...], tuple[DecodeOptions, Packet, int]] = {}
_SHAPES: dict[tuple[int, int], tuple[int, int]] = {}
# frames kept (a home agent's nodes x 2: each BU and its BA); then emptied. 8 192 covers 3 000 nodes
# x 2 with room for handovers: twice as many cost ~20 MiB more at 10 M packets and saved no CPU
REPEAT_CACHE_LIMIT = 1 << 13
_SEQUENCE_AT = {5: 6, 6: 8}  # BU, BA: offset of the Sequence Number in the Mobility Header
_MESSAGE_AS = maker(MobilityMessage, post_init=False)  # a repeat's: the kept message's BIDs are set
_SET_BIDS = MobilityMessage.__dict__["bids"].__set__  # the slot's descriptor
_pton, _AF_INET6 = socket.inet_pton, socket.AF_INET6


def _key(frame: Frame, data: bytes, options: DecodeOptions, mh: int, seq_at: int) -> tuple[Any, ...]:
    return (id(options), frame.linktype, frame.wire_length > len(data), mh, seq_at,
            data[: mh + 4] + data[mh + 6 : seq_at] + data[seq_at + 2 :])


def _keep(frame: Frame, data: bytes, options: DecodeOptions, packet: Packet, m: MobilityMessage,
          shape: tuple[int, int] | None, key: tuple[Any, ...] | None, mh_at: int | None,
          prefix: tuple[Any, ...] | None) -> None:
    """Keep a decoded message without problems for the frames that repeat its bytes before the
    Mobility Header (``_PREFIXES``) and, a BU/BA with a verified checksum, for its repeats
    (``_REPEATS``). ``key`` / ``prefix``: the frame's keys if made for ``shape`` / ``mh_at``."""
    if packet.fragment or packet.esp is not None or packet.icmp6 is not None or packet.ike is not None:
        return
    mh = m.offset
    if len(_PREFIXES) >= REPEAT_CACHE_LIMIT:
        _PREFIXES.clear()
        _MH_AT.clear()
    if prefix is None or mh_at != mh:
        prefix = _prefix_key(frame, data, options, mh)
    if prefix not in _PREFIXES:
        _PREFIXES[prefix] = (options, packet)
    _MH_AT[(frame.linktype, len(data))] = mh
    if m.checksum_ok is True and m.mh_type in _SEQUENCE_AT and m.body is not None:
        _remember(frame, data, options, packet, m, shape, key)


def _remember(frame: Frame, data: bytes, options: DecodeOptions, packet: Packet, m: MobilityMessage,
              shape: tuple[int, int] | None, key: tuple[Any, ...] | None) -> None:
    """Keep a decoded BU/BA for its repeats (``key``: the frame's, made for ``shape``)."""
    mh = m.offset
    seq_at = mh + _SEQUENCE_AT[m.mh_type]
    if seq_at + 2 > mh + m.header_len or mh + m.header_len > len(data):
        return
    path = packet.path
    src, dst = path.home_address_option or path.src, path.routing_type2 or path.dst
    if src is None or dst is None:  # pragma: no cover - a verified checksum had both
        return
    if len(_REPEATS) >= REPEAT_CACHE_LIMIT:
        _REPEATS.clear()
        _SHAPES.clear()
    if key is None or shape != (mh, seq_at):
        key = _key(frame, data, options, mh, seq_at)
    _REPEATS[key] = (options, packet, _partial_sum(src, dst, data[mh : mh + m.header_len], seq_at - mh))
    _SHAPES[(frame.linktype, len(data))] = (mh, seq_at)


def _partial_sum(src: str, dst: str, mh: bytes, seq_at: int) -> int:
    """``mobility.mh_checksum``'s sum (mod 0xFFFF) without the Checksum and Sequence Number words.
    Both sit an even number of bytes from the end of the (8n-byte) header, so each word counts as
    its own value mod 0xFFFF (2**16 = 1): a repeat's sum is this plus its Sequence Number."""
    total = (int.from_bytes(_pton(_AF_INET6, src), "big") + int.from_bytes(_pton(_AF_INET6, dst), "big")
             + len(mh) + NextHeader.MOBILITY + int.from_bytes(mh, "big")
             - (mh[4] << 8 | mh[5]) - (mh[seq_at] << 8 | mh[seq_at + 1]))
    return total % 0xFFFF


def _repeat(frame: Frame, data: bytes, known: tuple[DecodeOptions, Packet, int],
            shape: tuple[int, int]) -> Packet | None:
    """The packet of a frame that repeats a kept one (``known``) but for Checksum and Sequence
    Number, else None. A checksum that does not verify is left to the full decode (its verdict
    and fallbacks)."""
    mh, seq_at = shape
    seq = data[seq_at] << 8 | data[seq_at + 1]
    checksum = data[mh + 4] << 8 | data[mh + 5]
    if checksum != ~((known[2] + seq) % 0xFFFF or 0xFFFF) & 0xFFFF:  # mh_checksum's value
        return None
    packet = known[1]
    m = packet.mobility
    assert m is not None
    body = m.body
    if isinstance(body, BindingUpdate):
        body = _BINDING_UPDATE(seq, body.flags_word, body.lifetime, body.flags)
    elif isinstance(body, BindingAck):
        body = _BINDING_ACK(body.status, body.flags_byte, seq, body.lifetime, body.flags)
    else:  # pragma: no cover - only BU and BA are kept
        return None
    message = _MESSAGE_AS(m.offset, m.mh_type, m.type_name, m.payload_proto, m.header_len, checksum, True,
                          body, m.options)
    _SET_BIDS(message, m.bids)
    return _PACKET(frame.number, frame.time, frame.interface, frame.wire_length, packet.path, message, None,
                   None, False, (), None)


# A node's messages to one peer also share their bytes before the Mobility Header when the
# message itself changes (a refresh BU without the first one's O flag, a BID moved to another
# CoA): link layer, IP headers, Home Address option and routing header. The walk up to the MH
# reads only those bytes (and the frame's length: where the IP payload ends; whether it was
# snapped), so such a frame's path is the earlier one's and only its MH is decoded, as the full
# walk would from there. Kept: messages without a problem (their MH fills the IP payload exactly)
# that are not inside ESP (whose trailer is read from the end), not IKE, ICMPv6 or a fragment.
# Key: (id of the DecodeOptions, link type, snapped, length, MH offset, the bytes before the MH);
# value: (the DecodeOptions, the packet). ``_MH_AT``: the MH offset of the last kept frame per
# (link type, length), to cut a new frame's key.
_PREFIXES: dict[tuple[Any, ...], tuple[DecodeOptions, Packet]] = {}
_MH_AT: dict[tuple[int, int], int] = {}


def _prefix_key(frame: Frame, data: bytes, options: DecodeOptions, mh: int) -> tuple[Any, ...]:
    return (id(options), frame.linktype, frame.wire_length > len(data), len(data), mh, data[:mh])


def _after_prefix(frame: Frame, data: bytes, options: DecodeOptions, template: Packet) -> Packet:
    """``decode_frame_fully`` of a frame whose bytes before the MH are ``template``'s: the walk
    from the MH on, with the state the walk had there (addresses; no problem so far)."""
    m, path = template.mobility, template.path
    assert m is not None and path.protocol is not None  # a message's path: its MH's next header
    state = WalkState(len(data), frame.wire_length > len(data))
    state.src, state.dst = path.src, path.dst
    state.home_address_option, state.routing_type2 = path.home_address_option, path.routing_type2
    reader = _new(Reader)  # the IP payload from the MH on, which the template's MH filled
    reader.buf, reader.pos, reader.end = memoryview(data), m.offset, m.offset + m.header_len
    walk = _walk_options(options)
    try:
        decode_mobility(reader, state, path.protocol, walk.bid_type, walk.dialect)
    except DecodeError as exc:
        state.problems.append(Problem(exc.layer or state.layer, exc.offset, exc.reason))
    except Exception as exc:  # noqa: BLE001 - as decode_frame_fully
        state.problems.append(Problem(state.layer, 0, f"internal decoder error: {type(exc).__name__}: {exc}"))
    return _freeze(frame, state, path)


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


def _freeze(frame: Frame, state: WalkState, path: PacketPath | None = None) -> Packet:
    """The records of a walk (``path``: the one the walk found, already made)."""
    if state.problems_dropped:
        state.problems.append(Problem(state.layer, 0, f"{state.problems_dropped} more problems in this "
                                                      "packet not listed", "warning"))
    if path is None:
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
