"""Mobility Header wire layouts as dpkt ``Packet`` classes: one ``__hdr__`` table per RFC figure.

The encoder (``dissector.encode``) builds messages and options by instantiating these classes;
the signalling decoder (``dissector.mobility``, ``dissector.options``) unpacks with the same
tables, compiled once into a ``struct.Struct`` by :func:`compile_layout` (a dpkt object per message
would cost more than the whole decode; see benchmarks/signalling.py). So one table defines each
layout for reading and writing.

Conventions: fields are listed in wire order, top-left to bottom-right as in the figures; a
field whose name starts with ``_`` is Reserved (sent as zero, ignored on receipt); one-bit flags
are dpkt ``__bit_fields__`` of the byte or word that holds them. Message classes start after the
6-octet common header (``MobilityHeader``), as the figures of RFC 6275 §6.1.2-§6.1.9 do; option
classes start at the Type octet. Variable-length tails (CoA, authenticator, link-layer address,
padding) are the dpkt ``data`` that follows the fixed fields. An option's ``alignment`` (x, y) is
its xn+y requirement: the Type octet sits at x*n + y from the start of the Mobility Header.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

import dpkt

from dissector.errors import Truncated

_ZERO8 = b"\0" * 8
_ZERO16 = b"\0" * 16

# --------------------------------------------------------------------------- RFC 6275 §6.1.1


class MobilityHeader(dpkt.Packet):
    """RFC 6275 §6.1.1: the common header of every Mobility Header message."""

    __hdr__ = (
        ("payload_proto", "B", 59),  # IPPROTO_NONE
        ("header_len", "B", 0),  # 8-octet units, not counting the first 8
        ("mh_type", "B", 0),
        ("_reserved", "B", 0),
        ("checksum", "H", 0),
    )


# ------------------------------------------------------------------ messages (after the common header)


class BindingRefreshRequest(dpkt.Packet):
    """RFC 6275 §6.1.2, MH Type 0."""

    __hdr__ = (("_reserved", "H", 0),)


class HomeTestInit(dpkt.Packet):
    """RFC 6275 §6.1.3, MH Type 1."""

    __hdr__ = (("_reserved", "H", 0), ("home_init_cookie", "8s", _ZERO8))


class CareOfTestInit(dpkt.Packet):
    """RFC 6275 §6.1.4, MH Type 2."""

    __hdr__ = (("_reserved", "H", 0), ("careof_init_cookie", "8s", _ZERO8))


class HomeTest(dpkt.Packet):
    """RFC 6275 §6.1.5, MH Type 3."""

    __hdr__ = (
        ("home_nonce_index", "H", 0),
        ("home_init_cookie", "8s", _ZERO8),
        ("home_keygen_token", "8s", _ZERO8),
    )


class CareOfTest(dpkt.Packet):
    """RFC 6275 §6.1.6, MH Type 4."""

    __hdr__ = (
        ("careof_nonce_index", "H", 0),
        ("careof_init_cookie", "8s", _ZERO8),
        ("careof_keygen_token", "8s", _ZERO8),
    )


class BindingUpdate(dpkt.Packet):
    """RFC 6275 §6.1.7, MH Type 5, with the flags later RFCs assigned (IANA mobility-parameters-11):
    M RFC 4140, R RFC 3963, P RFC 5213, F RFC 5555, T RFC 5845, O RFC 5648 (B RFC 6602 when P)."""

    __hdr__ = (
        ("sequence", "H", 0),
        ("flags", "H", 0),
        ("lifetime", "H", 0),  # 4-second units
    )
    __bit_fields__ = {
        "flags": (
            ("a", 1), ("h", 1), ("l", 1), ("k", 1), ("m", 1), ("r", 1), ("p", 1), ("f", 1),
            ("t", 1), ("o", 1), ("_reserved", 6),
        ),
    }


class BindingAck(dpkt.Packet):
    """RFC 6275 §6.1.8, MH Type 6 (K; R RFC 3963, P RFC 5213, T RFC 5845, B RFC 6602)."""

    __hdr__ = (
        ("status", "B", 0),
        ("flags", "B", 0),
        ("sequence", "H", 0),
        ("lifetime", "H", 0),  # 4-second units
    )
    __bit_fields__ = {"flags": (("k", 1), ("r", 1), ("p", 1), ("t", 1), ("b", 1), ("_reserved", 3))}


class BindingError(dpkt.Packet):
    """RFC 6275 §6.1.9, MH Type 7."""

    __hdr__ = (("status", "B", 0), ("_reserved", "B", 0), ("home_address", "16s", _ZERO16))


# ------------------------------------------------------------------ mobility options (from the Type octet)


class Pad1(dpkt.Packet):
    """RFC 6275 §6.2.2: a single zero octet, no Length."""

    __hdr__ = (("type", "B", 0),)


class OptionHeader(dpkt.Packet):
    """RFC 6275 §6.2.1: Type, Length (octets after this header), then the Option Data. PadN
    (§6.2.3, Type 1) and options mcoaviz does not type are just this header and ``data``."""

    __hdr__ = (("type", "B", 1), ("length", "B", 0))


class BindingRefreshAdvice(dpkt.Packet):
    """RFC 6275 §6.2.4."""

    alignment: ClassVar[tuple[int, int] | None] = (2, 0)

    __hdr__ = (("type", "B", 2), ("length", "B", 2), ("refresh_interval", "H", 0))  # 4-second units


class AlternateCareOfAddress(dpkt.Packet):
    """RFC 6275 §6.2.5."""

    alignment: ClassVar[tuple[int, int] | None] = (8, 6)

    __hdr__ = (("type", "B", 3), ("length", "B", 16), ("alternate_coa", "16s", _ZERO16))


class NonceIndices(dpkt.Packet):
    """RFC 6275 §6.2.6."""

    alignment: ClassVar[tuple[int, int] | None] = (2, 0)

    __hdr__ = (
        ("type", "B", 4), ("length", "B", 4),
        ("home_nonce_index", "H", 0), ("careof_nonce_index", "H", 0),
    )


class BindingAuthorizationData(dpkt.Packet):
    """RFC 6275 §6.2.7; the Authenticator is ``data``."""

    alignment: ClassVar[tuple[int, int] | None] = (8, 2)

    __hdr__ = (("type", "B", 5), ("length", "B", 12))


class MobileNetworkPrefix(dpkt.Packet):
    """RFC 3963 §4.3."""

    alignment: ClassVar[tuple[int, int] | None] = (8, 4)

    __hdr__ = (
        ("type", "B", 6), ("length", "B", 18),
        ("_reserved", "B", 0), ("prefix_length", "B", 0), ("prefix", "16s", _ZERO16),
    )


class LinkLayerAddress(dpkt.Packet):
    """RFC 5568 §6.4.3 (Mobility Header Link-Layer Address); the address is ``data``."""

    alignment: ClassVar[tuple[int, int] | None] = None

    __hdr__ = (("type", "B", 7), ("length", "B", 1), ("option_code", "B", 0))


class IPv4HomeAddress(dpkt.Packet):
    """RFC 5555 §3.1.1."""

    alignment: ClassVar[tuple[int, int] | None] = (4, 0)

    __hdr__ = (
        ("type", "B", 29), ("length", "B", 6),
        ("prefix_flags", "H", 0), ("ipv4_home_address", "4s", b"\0" * 4),
    )
    __bit_fields__ = {"prefix_flags": (("prefix_length", 6), ("p", 1), ("_reserved", 9))}


class IPv4AddressAck(dpkt.Packet):
    """RFC 5555 §3.2.1."""

    alignment: ClassVar[tuple[int, int] | None] = (4, 0)

    __hdr__ = (
        ("type", "B", 30), ("length", "B", 6),
        ("status", "B", 0), ("prefix_reserved", "B", 0), ("ipv4_home_address", "4s", b"\0" * 4),
    )
    __bit_fields__ = {"prefix_reserved": (("prefix_length", 6), ("_reserved", 2))}


class NATDetection(dpkt.Packet):
    """RFC 5555 §3.2.2."""

    alignment: ClassVar[tuple[int, int] | None] = (4, 0)

    __hdr__ = (
        ("type", "B", 31), ("length", "B", 6),
        ("flags", "H", 0), ("refresh_time", "I", 0),  # seconds
    )
    __bit_fields__ = {"flags": (("f", 1), ("_reserved", 15))}


class IPv4CareOfAddress(dpkt.Packet):
    """RFC 5555 §3.1.2."""

    alignment: ClassVar[tuple[int, int] | None] = (4, 0)

    __hdr__ = (("type", "B", 32), ("length", "B", 6), ("_reserved", "H", 0), ("ipv4_coa", "4s", b"\0" * 4))


class BindingIdentifier(dpkt.Packet):
    """RFC 5648 §4.3 Figure 5. The CoA (4 octets for Length 8, 16 for Length 20) is ``data``.
    Pre-standard stacks used other Type values."""

    alignment: ClassVar[tuple[int, int]] = (2, 0)  # without a CoA
    alignment_with_coa: ClassVar[tuple[int, int]] = (8, 2)

    __hdr__ = (
        ("type", "B", 35), ("length", "B", 4),
        ("binding_id", "H", 0), ("status", "B", 0), ("flags", "B", 0),
    )
    __bit_fields__ = {"flags": (("h", 1), ("_reserved", 7))}


class BindingIdentifierDraft05(dpkt.Packet):
    """draft-ietf-monami6-multiplecoa-05 §4.2.1 Figure 1: the same octets as RFC 5648; only the
    flags differ (C: CoA present, O: overwrite, H: home binding, D: the CoA is IPv4)."""

    __hdr__ = BindingIdentifier.__hdr__
    __bit_fields__ = {"flags": (("c", 1), ("o", 1), ("h", 1), ("d", 1), ("_reserved", 4))}


# --------------------------------------------------------------------------- the decoder's view


@dataclass(frozen=True, slots=True)
class Layout:
    """A layout class compiled for reading: its ``__hdr_fmt__`` as one Struct, and each field's
    (name, offset, size) so a short buffer is reported at the field that does not fit."""

    packet: type[dpkt.Packet]
    struct: struct.Struct
    fields: tuple[tuple[str, int, int], ...]

    @property
    def size(self) -> int:
        return self.struct.size

    def truncated(self, start: int, end: int) -> Truncated:
        """The error reading [start, end) raises: at the first field past ``end``, worded as the
        ``Reader`` words a short pull (a Reserved field is skipped, not pulled)."""
        for name, offset, size in self.fields:
            at = start + offset
            if at + size > end:
                if name.startswith("_"):
                    return Truncated(at, f"cannot move to offset {at + size}: data ends at {end}")
                return Truncated(at, f"need {size} bytes at offset {at}, only {max(0, end - at)} left")
        raise ValueError(f"{self.packet.__name__} fits in [{start}, {end})")


def compile_layout(packet: type[dpkt.Packet], skip: int = 0) -> Layout:
    """Compile ``packet``'s table, leaving out its first ``skip`` fields (an option's Type and
    Length, which the TLV walk has already read)."""
    table = packet.__hdr__[skip:]
    order = packet.__hdr_fmt__[0]
    fields, offset = [], 0
    for name, fmt, _ in table:
        size = struct.calcsize(order + fmt)
        fields.append((name, offset, size))
        offset += size
    return Layout(packet, struct.Struct(order + "".join(fmt for _, fmt, _ in table)), tuple(fields))


# Message bodies by MH Type; FIXED_LENGTH (from the start of the MH) follows from them.
MESSAGE_LAYOUTS: dict[int, Layout] = {
    mh_type: compile_layout(cls)
    for mh_type, cls in enumerate((BindingRefreshRequest, HomeTestInit, CareOfTestInit, HomeTest, CareOfTest,
                                   BindingUpdate, BindingAck, BindingError))
}
COMMON_HEADER = compile_layout(MobilityHeader)
FIXED_LENGTH: dict[int, int] = {t: COMMON_HEADER.size + layout.size for t, layout in MESSAGE_LAYOUTS.items()}

# Option values (after Type and Length) by option Type, for the options with a fixed part.
OPTION_CLASSES: dict[int, type[dpkt.Packet]] = {
    2: BindingRefreshAdvice, 3: AlternateCareOfAddress, 4: NonceIndices, 5: BindingAuthorizationData,
    6: MobileNetworkPrefix, 7: LinkLayerAddress, 29: IPv4HomeAddress, 30: IPv4AddressAck,
    31: NATDetection, 32: IPv4CareOfAddress, 35: BindingIdentifier,
}
OPTION_VALUES: dict[int, Layout] = {kind: compile_layout(cls, skip=2) for kind, cls in OPTION_CLASSES.items()}
OPTION_ALIGNMENT: dict[int, tuple[int, int] | None] = {
    kind: cls.alignment for kind, cls in OPTION_CLASSES.items()
}
# Options that are exactly their fixed part (the others carry a variable tail in ``data``).
VARIABLE_TAIL = frozenset({5, 7, 35})
