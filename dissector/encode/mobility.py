"""Mobility Header messages 0-7 (RFC 6275 §6.1) with Header Len computed from the options.

``mobility_header`` returns the MH with a zero checksum: the checksum depends on the IPv6
pseudo-header (HAO address as source, type 2 RH address as destination), so the IPv6 builder
fills it in (``ip.ipv6_packet(..., upper=MH)``). Message bodies are the decoder's records; the
bytes are laid out by the dpkt classes of ``dissector.mh_layouts``, the tables the decoder reads.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

from dissector import mh_layouts as layouts
from dissector.codepoints import BA_FLAGS, BU_FLAGS, MHType, flag_letters
from dissector.encode.options import layout_options
from dissector.records import (
    BindingAck,
    BindingError,
    BindingRefreshRequest,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    HomeTest,
    HomeTestInit,
    MessageBody,
    MobilityOption,
    RawMessage,
)

MH_CHECKSUM_OFFSET = 4
NO_NEXT_HEADER = 59


def bu_flags(*letters: str) -> int:
    """The BU flags word for the given letters ("A", "H", "K", "R", "F", "O", ...)."""
    table = dict(BU_FLAGS)
    return sum(table[letter] for letter in set(letters))


def ba_flags(*letters: str) -> int:
    table = dict(BA_FLAGS)
    return sum(table[letter] for letter in set(letters))


def binding_update(seq: int, lifetime: int, *letters: str) -> BindingUpdate:
    """A BU record; ``lifetime`` in seconds (sent in 4-second units, rounded down)."""
    word = bu_flags(*letters)
    return BindingUpdate(
        seq=seq & 0xFFFF, flags_word=word, lifetime=lifetime, flags=flag_letters(word, BU_FLAGS)
    )


def binding_ack(status: int, seq: int, lifetime: int, *letters: str) -> BindingAck:
    byte = ba_flags(*letters)
    return BindingAck(
        status=status,
        flags_byte=byte,
        seq=seq & 0xFFFF,
        lifetime=lifetime,
        flags=flag_letters(byte, BA_FLAGS),
    )


def _units(lifetime: int) -> int:
    return min(max(lifetime, 0) // 4, 0xFFFF)


def _fixed_part(body: MessageBody) -> tuple[int, bytes]:
    """(MH type, octets after the 6-octet common header), laid out by the mh_layouts classes."""
    match body:
        case BindingRefreshRequest():
            return MHType.BRR, bytes(layouts.BindingRefreshRequest())
        case HomeTestInit(cookie=cookie):
            return MHType.HOTI, bytes(layouts.HomeTestInit(home_init_cookie=cookie))
        case CareOfTestInit(cookie=cookie):
            return MHType.COTI, bytes(layouts.CareOfTestInit(careof_init_cookie=cookie))
        case HomeTest(nonce_index=index, cookie=cookie, keygen_token=token):
            return MHType.HOT, bytes(layouts.HomeTest(
                home_nonce_index=index, home_init_cookie=cookie, home_keygen_token=token))
        case CareOfTest(nonce_index=index, cookie=cookie, keygen_token=token):
            return MHType.COT, bytes(layouts.CareOfTest(
                careof_nonce_index=index, careof_init_cookie=cookie, careof_keygen_token=token))
        case BindingUpdate(seq=seq, flags_word=word, lifetime=lifetime):
            return MHType.BU, bytes(layouts.BindingUpdate(
                sequence=seq, flags=word, lifetime=_units(lifetime)))
        case BindingAck(status=status, flags_byte=byte, seq=seq, lifetime=lifetime):
            return MHType.BA, bytes(layouts.BindingAck(
                status=status, flags=byte, sequence=seq, lifetime=_units(lifetime)))
        case BindingError(status=status, home_address=hoa):
            return MHType.BE, bytes(layouts.BindingError(
                status=status, home_address=socket.inet_pton(socket.AF_INET6, hoa)))
    raise TypeError(f"not a message body: {body!r}")


def mobility_header(
    body: MessageBody,
    options: Sequence[MobilityOption] = (),
    *,
    mh_type: int | None = None,
    payload_proto: int = NO_NEXT_HEADER,
    header_len: int | None = None,
    align: bool = True,
) -> bytes:
    """The Mobility Header bytes, checksum field 0.

    ``RawMessage`` bodies need ``mh_type`` and are written verbatim after the common header.
    ``header_len`` overrides the computed Header Len field (deliberately wrong lengths);
    ``mh_type`` overrides the type of a typed body.
    """
    if isinstance(body, RawMessage):
        if mh_type is None:
            raise ValueError("a RawMessage needs mh_type")
        rest = body.data + layout_options(options, 6 + len(body.data), align=align) if options else body.data
        rest += b"\0" * (-(6 + len(rest)) % 8)
        kind = mh_type
    else:
        kind, fixed = _fixed_part(body)
        rest = fixed + layout_options(options, 6 + len(fixed), align=align)
        if mh_type is not None:
            kind = mh_type
    total = 6 + len(rest)
    hlen = total // 8 - 1 if header_len is None else header_len
    return bytes(layouts.MobilityHeader(payload_proto=payload_proto, header_len=hlen, mh_type=kind)) + rest
