"""Mobility option TLV walk (RFC 6275 §6.2) with typed decoding and alignment checks.

Offsets in option records are from the start of the Mobility Header (where alignment is defined);
Problem offsets are frame offsets. A bad option never stops the message: it becomes a Problem and,
when its length is still usable, an UnknownOption, and the walk goes on.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from dissector.codepoints import OPTION_NAMES, Dialect, OptionType
from dissector.mh_layouts import OPTION_ALIGNMENT, OPTION_VALUES, VARIABLE_TAIL
from dissector.mh_layouts import BindingIdentifier as BindingIdentifierLayout
from dissector.reader import Reader
from dissector.records import (
    AlternateCoA,
    BindingAuthData,
    BindingIdentifier,
    BindingRefreshAdvice,
    IPv4AddressAck,
    IPv4CareOfAddress,
    IPv4HomeAddress,
    LinkLayerAddress,
    MobileNetworkPrefix,
    MobilityOption,
    NATDetection,
    NonceIndices,
    Pad1,
    PadN,
    UnknownOption,
    maker,
)
from dissector.walkstate import WalkState

_PAD1, _PADN, _BID = maker(Pad1), maker(PadN), maker(BindingIdentifier)  # the options of every message

# type -> (required Length or None for variable, alignment (x, y) meaning offset % x == y, or None),
# from the mh_layouts classes; the Binding Identifier is read under the configured type instead.
_FIXED: dict[int, tuple[int | None, tuple[int, int] | None]] = {
    kind: (None if kind in VARIABLE_TAIL else OPTION_VALUES[kind].size, OPTION_ALIGNMENT[kind])
    for kind in OPTION_VALUES if kind != OptionType.BINDING_IDENTIFIER
}
_BID_VALUE = OPTION_VALUES[OptionType.BINDING_IDENTIFIER].struct

_BID_LENGTHS = {4: None, 8: socket.AF_INET, 20: socket.AF_INET6}

# A Mobility Header can hold 2 000 Pad1 options; every message is kept by the engine, so a flood of
# them must not become objects. Padding beyond a few options per message is walked and checked but
# not kept, and at most MAX_OPTIONS other options are kept (real messages carry a handful).
MAX_PADS_KEPT = 4
MAX_OPTIONS = 64


def _ntop(family: int, data: bytes) -> str:
    return socket.inet_ntop(family, data)


def _typed(kind: int, rel: int, data: bytes) -> MobilityOption:
    """Decode an option whose Length was already checked against _FIXED; the fields are those of
    its mh_layouts class after Type and Length, in table order."""
    if kind == OptionType.BINDING_AUTH_DATA:
        return BindingAuthData(rel, data)
    layout = OPTION_VALUES.get(kind)
    if layout is None:
        return UnknownOption(rel, kind, data)
    fields = layout.struct.unpack_from(data)
    if kind == OptionType.BINDING_REFRESH_ADVICE:
        return BindingRefreshAdvice(rel, fields[0] * 4)
    if kind == OptionType.ALTERNATE_COA:
        return AlternateCoA(rel, _ntop(socket.AF_INET6, fields[0]))
    if kind == OptionType.NONCE_INDICES:
        return NonceIndices(rel, fields[0], fields[1])
    if kind == OptionType.MOBILE_NETWORK_PREFIX:
        return MobileNetworkPrefix(rel, fields[1], _ntop(socket.AF_INET6, fields[2]))
    if kind == OptionType.LINK_LAYER_ADDRESS:
        return LinkLayerAddress(rel, fields[0], data[layout.size :])
    if kind == OptionType.IPV4_HOME_ADDRESS:  # Prefix-len: 6 bits, then P
        address = _ntop(socket.AF_INET, fields[1])
        return IPv4HomeAddress(rel, fields[0] >> 10, bool(fields[0] & 0x0200), address)
    if kind == OptionType.IPV4_ADDRESS_ACK:  # Status, then Prefix-len: 6 bits
        return IPv4AddressAck(rel, fields[0], fields[1] >> 2, _ntop(socket.AF_INET, fields[2]))
    if kind == OptionType.NAT_DETECTION:  # F is the top bit
        return NATDetection(rel, bool(fields[0] & 0x8000), fields[1])
    if kind == OptionType.IPV4_COA:
        return IPv4CareOfAddress(rel, _ntop(socket.AF_INET, fields[1]))
    return UnknownOption(rel, kind, data)


def decode_bid(rel: int, length: int, data: bytes, dialect: Dialect,
               report: Callable[[str, str], None]) -> BindingIdentifier | UnknownOption:
    """Binding Identifier, both dialects: the CoA is present by Length (8 IPv4, 20 IPv6)."""
    if length < 4:
        report(f"Binding Identifier Length {length}: must be 4, 8 or 20", "error")
        return UnknownOption(rel, -1, data)  # type fixed by the caller
    family = _BID_LENGTHS.get(length)
    if length not in _BID_LENGTHS:
        report(f"Binding Identifier Length {length}: must be 4, 8 or 20 (CoA not read)", "error")
    coa = _ntop(family, data[4:length]) if family is not None else None
    bid, status, flags_byte = _BID_VALUE.unpack_from(data)
    return BindingIdentifier(rel, length, bid, status, flags_byte, coa, dialect)


def _bid_alignment(length: int) -> tuple[int, int]:
    if length in (8, 20):
        return BindingIdentifierLayout.alignment_with_coa
    return BindingIdentifierLayout.alignment


_BID_ALIGNMENT = {length: _bid_alignment(length) for length in _BID_LENGTHS}


# Options areas walked without a problem -> their records. The records are a function of the
# area's bytes, its offset in the Mobility Header, the BID type and the dialect only, and they
# are frozen, so messages with the same area share them: a home agent's BAs all carry the same
# few areas, and each mobile node's refresh BUs repeat theirs. Emptied when full.
_WALKS: dict[tuple[bytes, int, int, Dialect], tuple[MobilityOption, ...]] = {}
WALK_CACHE_LIMIT = 1 << 13


def walk_options(reader: Reader, mh_start: int, state: WalkState, out: list[MobilityOption],
                 bid_type: int, dialect: Dialect, snapped: bool = False) -> tuple[MobilityOption, ...] | None:
    """Walk options from reader.pos to reader.end, appending to ``out`` as it goes.

    Problems are recorded on ``state`` directly: a bad option is never fatal for the message.
    ``snapped``: the options end where the capture's snap length cut them, so an option running
    past the end is a warning, not a malformed packet.

    An area seen before without a problem gets the records of that walk (``_WALKS``), and they are
    returned as the one tuple every message with this area shares (None after a walk): a message
    made of them alone can keep that tuple, and what is derived from it can be kept by identity.
    """
    key = (bytes(reader.buf[reader.pos : reader.end]), reader.pos - mh_start, bid_type, dialect)
    known = _WALKS.get(key)
    if known is not None:
        out.extend(known)
        reader.pos = max(reader.pos, reader.end)
        return known
    kept, problems, dropped = len(out), len(state.problems), state.problems_dropped
    _walk(reader, mh_start, state, out, bid_type, dialect, snapped)
    if len(state.problems) == problems and state.problems_dropped == dropped:
        if len(_WALKS) >= WALK_CACHE_LIMIT:
            _WALKS.clear()
        _WALKS[key] = tuple(out[kept:])
    return None


def _walk(reader: Reader, mh_start: int, state: WalkState, out: list[MobilityOption],
          bid_type: int, dialect: Dialect, snapped: bool) -> None:
    """walk_options' walk. Every signalling message comes through here, so the loop indexes the
    buffer itself (no Reader call per byte) and reads padding and well-formed Binding
    Identifiers inline; anything else goes through ``_decode_one``."""
    buf, pos, end = reader.buf, reader.pos, reader.end
    pads = others = 0
    try:
        while pos < end:
            start = pos
            rel = start - mh_start
            kind = buf[pos]
            pos += 1
            if kind == 0:  # Pad1
                pads += 1
                if pads <= MAX_PADS_KEPT:
                    out.append(_PAD1(rel))
                continue
            cut = "warning" if snapped else "error"
            if pos >= end:
                state.problem(start, f"option type {kind} at MH offset {rel}: Length byte past the end of "
                                     "the options", cut, f"option:{kind}")
                return
            length = buf[pos]
            pos += 1
            if length > end - pos:
                state.problem(start, f"option type {kind} at MH offset {rel}: Length {length} runs "
                                     f"{length - (end - pos)} bytes past the end of the options",
                              cut, f"option:{kind}")
                return
            data = bytes(buf[pos : pos + length])
            pos += length
            if kind == 1:  # PadN
                pads += 1
                if pads <= MAX_PADS_KEPT:
                    out.append(_PADN(rel, length, any(data)))
                continue
            option: MobilityOption
            if kind == bid_type and length in _BID_LENGTHS:  # decode_bid without its error paths
                family = _BID_LENGTHS[length]
                bid, status, flags_byte = _BID_VALUE.unpack_from(data)
                option = _BID(rel, length, bid, status, flags_byte,
                              None if family is None else socket.inet_ntop(family, data[4:]), dialect)
                if kind != 35:  # a configured pre-standard type
                    option = _retype(option, kind)
                x, y = _BID_ALIGNMENT[length]
                if rel % x != y:
                    state.problem(start, f"Binding Identifier at MH offset {rel} is misaligned "
                                         f"(needs {x}n+{y})", "warning", f"option:{kind}")
            else:
                option = _decode_one(kind, rel, start, length, data, state, bid_type, dialect)
            others += 1
            if others <= MAX_OPTIONS:
                out.append(option)
            elif others == MAX_OPTIONS + 1:
                state.problem(start, f"more than {MAX_OPTIONS} options in one message: the rest are "
                                     "checked but not kept", "warning", f"option:{kind}")
            if kind == OptionType.BINDING_AUTH_DATA and pos < end:  # not the last option
                state.problem(start, "Binding Authorization Data is not the last option (RFC 6275 §6.2.7)",
                              "warning", f"option:{kind}")
    finally:
        reader.pos = pos


def _decode_one(kind: int, rel: int, start: int, length: int, data: bytes, state: WalkState,
                bid_type: int, dialect: Dialect) -> MobilityOption:
    def report(reason: str, severity: str) -> None:
        state.problem(start, reason, severity, f"option:{kind}")

    if kind == OptionType.PADN:
        return PadN(rel, length, nonzero_padding=any(data))
    if kind == bid_type:
        option = decode_bid(rel, length, data, dialect, report)
        if isinstance(option, UnknownOption):
            return UnknownOption(rel, kind, data)
        if kind != OptionType.BINDING_IDENTIFIER:
            option = _retype(option, kind)
        _check_alignment(rel, _bid_alignment(length), "Binding Identifier", report)
        return option
    spec = _FIXED.get(kind)
    if spec is None:
        return UnknownOption(rel, kind, data)
    required, alignment = spec
    name = OPTION_NAMES[kind]
    if required is not None and length != required:
        report(f"{name} Length {length}, must be {required}", "error")
        return UnknownOption(rel, kind, data)
    if kind == OptionType.LINK_LAYER_ADDRESS and length < 1:
        report("MH Link-Layer Address Length 0: no Option-Code", "error")
        return UnknownOption(rel, kind, data)
    if alignment is not None:
        _check_alignment(rel, alignment, name, report)
    return _typed(kind, rel, data)


def _retype(option: BindingIdentifier, kind: int) -> BindingIdentifier:
    """A BID carried under a configured pre-standard type keeps that type in the record."""
    return BindingIdentifier(option.offset, option.length, option.bid, option.status, option.flags_byte,
                             option.coa, option.dialect, type=kind)


def _check_alignment(rel: int, alignment: tuple[int, int], name: str,
                     report: Callable[[str, str], None]) -> None:
    x, y = alignment
    if rel % x != y:
        report(f"{name} at MH offset {rel} is misaligned (needs {x}n+{y})", "warning")
