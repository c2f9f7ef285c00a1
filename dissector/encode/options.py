"""Mobility options (RFC 6275 §6.2, RFC 5648 §4.3, draft-05 §4.2.1, RFC 5555 §3, RFC 3963 §4.3).

Options are built from the same records the decoder returns (``dissector.records``); their
``offset`` field is ignored on the way out; the bytes are laid out by the dpkt classes of
``dissector.mh_layouts``. ``layout_options`` places them after the fixed part
of a message and inserts Pad1/PadN so each option meets its alignment requirement (xn+y:
the Type octet sits at x*n + y from the start of the Mobility Header), then pads the end to a
multiple of 8 octets. Pad1/PadN records given explicitly are emitted verbatim, which lets a
scenario craft wrong alignment on purpose.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

from dissector import mh_layouts as layouts
from dissector.codepoints import Dialect
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
)

# Draft-05 BID flag masks (I-3) and the RFC 5648 H flag.
DRAFT_C, DRAFT_O, DRAFT_H, DRAFT_D = 0x80, 0x40, 0x20, 0x10
RFC_H = 0x80


def _v6(address: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, address)


def _v4(address: str) -> bytes:
    return socket.inet_pton(socket.AF_INET, address)


def binding_identifier(
    bid: int,
    coa: str | None = None,
    *,
    status: int = 0,
    home: bool = False,
    overwrite: bool = False,
    dialect: Dialect = Dialect.RFC5648,
    extra_flags: int = 0,
    bid_type: int = 35,
) -> BindingIdentifier:
    """A BID option record with the flags byte right for ``dialect``.

    RFC 5648: H=0x80; CoA presence and family come from Length only; ``overwrite`` is not an
    option flag there (it is the BU header's O) and is ignored. Draft-05: C=0x80 when a CoA is
    carried, D=0x10 when it is IPv4, O=0x40, H=0x20. ``extra_flags`` is OR-ed in as is
    (reserved bits, deliberate errors).
    """
    length = 4 if coa is None else (8 if ":" not in coa else 20)
    if dialect is Dialect.DRAFT05:
        flags = (DRAFT_C if coa is not None else 0) | (DRAFT_D if length == 8 else 0)
        flags |= (DRAFT_O if overwrite else 0) | (DRAFT_H if home else 0)
    else:
        flags = RFC_H if home else 0
    return BindingIdentifier(
        offset=0,
        length=length,
        bid=bid,
        status=status,
        flags_byte=flags | extra_flags,
        coa=coa,
        dialect=dialect,
        type=bid_type,
    )


def encode_option(option: MobilityOption) -> bytes:
    """Type-Length-Value bytes of one option (Pad1 is the single octet 0), laid out by mh_layouts."""
    match option:
        case Pad1():
            return bytes(layouts.Pad1())
        case PadN(length=length):
            fill = b"\x01" * length if option.nonzero_padding else b"\0" * length
            return bytes(layouts.OptionHeader(type=1, length=length, data=fill))
        case BindingRefreshAdvice(interval=interval):
            return bytes(layouts.BindingRefreshAdvice(refresh_interval=interval // 4))
        case AlternateCoA(address=address):
            return bytes(layouts.AlternateCareOfAddress(alternate_coa=_v6(address)))
        case NonceIndices(home_nonce_index=h, careof_nonce_index=c):
            return bytes(layouts.NonceIndices(home_nonce_index=h, careof_nonce_index=c))
        case BindingAuthData(authenticator=auth):
            return bytes(layouts.BindingAuthorizationData(length=len(auth), data=auth))
        case MobileNetworkPrefix(prefix_length=plen, prefix=prefix):
            return bytes(layouts.MobileNetworkPrefix(prefix_length=plen, prefix=_v6(prefix)))
        case LinkLayerAddress(option_code=code, address=lla):
            return bytes(layouts.LinkLayerAddress(length=1 + len(lla), option_code=code, data=lla))
        case IPv4HomeAddress(prefix_length=plen, p_flag=p, address=address):
            return bytes(layouts.IPv4HomeAddress(
                prefix_length=plen, p=int(p), ipv4_home_address=_v4(address)))
        case IPv4AddressAck(status=status, prefix_length=plen, address=address):
            return bytes(layouts.IPv4AddressAck(
                status=status, prefix_length=plen, ipv4_home_address=_v4(address)))
        case NATDetection(f_flag=f, refresh_time=refresh):
            return bytes(layouts.NATDetection(f=int(f), refresh_time=refresh))
        case IPv4CareOfAddress(address=address):
            return bytes(layouts.IPv4CareOfAddress(ipv4_coa=_v4(address)))
        case BindingIdentifier():
            coa = b"" if option.coa is None else (_v6(option.coa) if ":" in option.coa else _v4(option.coa))
            draft = option.dialect is Dialect.DRAFT05
            layout = layouts.BindingIdentifierDraft05 if draft else layouts.BindingIdentifier
            return bytes(layout(type=option.type, length=option.length, binding_id=option.bid,
                                status=option.status, flags=option.flags_byte, data=coa))
        case UnknownOption(type=otype, data=data):
            return bytes(layouts.OptionHeader(type=otype, length=len(data), data=data))
    raise TypeError(f"not a mobility option: {option!r}")


def alignment(option: MobilityOption) -> tuple[int, int] | None:
    """(x, y) of the xn+y alignment requirement (from the mh_layouts classes), or None."""
    if isinstance(option, BindingIdentifier):
        if option.coa is not None:
            return layouts.BindingIdentifier.alignment_with_coa
        return layouts.BindingIdentifier.alignment
    if isinstance(option, Pad1 | PadN | UnknownOption):
        return None
    return layouts.OPTION_ALIGNMENT.get(option.type)


def padding(count: int) -> bytes:
    """``count`` octets of padding: nothing, Pad1, or one PadN (RFC 6275 §6.2.2, §6.2.3)."""
    if count <= 0:
        return b""
    if count == 1:
        return b"\0"
    return bytes((1, count - 2)) + b"\0" * (count - 2)


def layout_options(options: Sequence[MobilityOption], start: int, *, align: bool = True) -> bytes:
    """Options placed from MH offset ``start``, aligned, and padded to an 8-octet multiple.

    With ``align=False`` options are concatenated as given and only the final padding is added
    (for deliberately misaligned messages).
    """
    out = bytearray()
    for option in options:
        rule = alignment(option) if align else None
        if rule is not None:
            x, y = rule
            out += padding((y - (start + len(out))) % x)
        out += encode_option(option)
    out += padding(-(start + len(out)) % 8)
    return bytes(out)
