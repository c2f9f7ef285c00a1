"""Mobility Header (RFC 6275 §6.1): fixed parts of messages 0-7, Header Len checks, checksum.

The checksum pseudo-header (RFC 6275 §6.1.1, RFC 2460 §8.1) uses the home address from a Home
Address option as source and the type 2 routing header address as destination, when present.
"""

from __future__ import annotations

import socket

from dissector.checksum import inet_checksum, ipv6_pseudo_header
from dissector.codepoints import (
    BA_FLAGS,
    BU_FLAG_P,
    BU_FLAGS,
    MH_SHORT_NAMES,
    MH_TYPE_NAMES,
    Dialect,
    NextHeader,
    flag_letters,
)
from dissector.mh_layouts import COMMON_HEADER, FIXED_LENGTH, MESSAGE_LAYOUTS
from dissector.options import walk_options
from dissector.reader import Reader
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
    maker,
)
from dissector.walkstate import MobilityDraft, WalkState

_BINDING_UPDATE, _BINDING_ACK = maker(BindingUpdate), maker(BindingAck)
_pton, _AF_INET6 = socket.inet_pton, socket.AF_INET6
_BU_FLAGS_B = tuple(("B", mask) if letter == "O" else (letter, mask) for letter, mask in BU_FLAGS)
_BU_FLAGS_DRAFT = tuple((letter, mask) for letter, mask in BU_FLAGS if letter != "O")


def type_name(mh_type: int) -> str:
    return MH_SHORT_NAMES.get(mh_type) or MH_TYPE_NAMES.get(mh_type) or f"Unknown MH type {mh_type}"


def bu_flag_letters(flags_word: int, dialect: Dialect) -> tuple[str, ...]:
    """BU header flags. 0x0040 is O (RFC 5648) when P=0, B (RFC 6602) when P=1, and a reserved bit
    in the draft-05 dialect, whose O lives in the BID option (interpretation I-26)."""
    if flags_word & BU_FLAG_P:
        return flag_letters(flags_word, _BU_FLAGS_B)
    if dialect is Dialect.DRAFT05:
        return flag_letters(flags_word, _BU_FLAGS_DRAFT)
    return flag_letters(flags_word, BU_FLAGS)


def _body(mh_type: int, r: Reader, total_end: int, dialect: Dialect) -> MessageBody:
    layout = MESSAGE_LAYOUTS.get(mh_type)
    if layout is None:
        return RawMessage(bytes(r.buf[r.pos : max(r.pos, total_end)]))
    start = r.pos
    if start + layout.size > r.end:
        raise layout.truncated(start, r.end)
    r.pos = start + layout.size
    fields = layout.struct.unpack_from(r.buf, start)  # in the order of the mh_layouts table
    if mh_type == 5:
        seq, word, lifetime = fields
        return _BINDING_UPDATE(seq, word, lifetime * 4, bu_flag_letters(word, dialect))
    if mh_type == 6:
        status, fbyte, seq, lifetime = fields
        return _BINDING_ACK(status, fbyte, seq, lifetime * 4, flag_letters(fbyte, BA_FLAGS))
    if mh_type in (3, 4):
        return (HomeTest if mh_type == 3 else CareOfTest)(*fields)
    if mh_type in (1, 2):
        return (HomeTestInit if mh_type == 1 else CareOfTestInit)(fields[1])
    if mh_type == 7:
        return BindingError(fields[0], socket.inet_ntop(socket.AF_INET6, fields[2]))
    return BindingRefreshRequest()


def mh_checksum(src: str, dst: str, mh: bytes | memoryview, next_header: int = NextHeader.MOBILITY) -> int:
    """The value the Checksum field must hold (computed with the field zeroed)."""
    if len(mh) < 6:
        body = bytearray(mh)
        body[4:6] = b"\0\0"
        return inet_checksum(ipv6_pseudo_header(src, dst, len(body), next_header) + bytes(body))
    # inet_checksum's one's complement sum of 16-bit words without the word loop: 2**16 = 1
    # (mod 0xFFFF), so the sum of the words is the number itself mod 0xFFFF, and so is the sum
    # of the parts, each an even number of bytes from the end (pseudo-header: source,
    # destination, length, next header; the MH padded to even length, its Checksum field, at
    # an even offset from the end, taken out). The folded sum is 0 only for all-zero words,
    # which a pseudo-header with a non-zero length never is: 0xFFFF where the remainder is 0.
    size = len(mh)
    total = (int.from_bytes(_pton(_AF_INET6, src), "big") + int.from_bytes(_pton(_AF_INET6, dst), "big")
             + size + next_header + (int.from_bytes(mh, "big") << (8 if size % 2 else 0))
             - (mh[4] << 8 | mh[5]))
    return ~(total % 0xFFFF or 0xFFFF) & 0xFFFF


def decode_mobility(r: Reader, state: WalkState, next_header: int, bid_type: int,
                    dialect: Dialect) -> None:
    """Decode the MH starting at r.pos and bounded by r.end (the end of the IP payload)."""
    state.layer = "mobility"
    start = r.pos
    available = r.end - start
    if start + COMMON_HEADER.size > r.end:
        raise COMMON_HEADER.truncated(start, r.end)
    proto, hlen, mh_type, _, checksum = COMMON_HEADER.struct.unpack_from(r.buf, start)
    r.pos = start + COMMON_HEADER.size
    total = (hlen + 1) * 8
    draft = MobilityDraft(start, mh_type, type_name(mh_type), proto, total, checksum)
    state.mobility = draft
    fixed = FIXED_LENGTH.get(mh_type, 6)
    if proto != NextHeader.NO_NEXT:
        state.problem(start, f"Payload Proto {proto}; implementations should set 59 (RFC 6275 §6.1.1)",
                      "warning")
    if total > available:
        if state.snapped and start + available >= state.frame_len:
            state.problem(start + 1, f"Mobility Header is {total} bytes; the capture kept {available} "
                                     "(snap length)", "warning")
        else:
            state.problem(start + 1, f"Header Len {hlen} says {total} bytes but the packet has "
                                     f"{available} bytes of Mobility Header")
    elif total < available:
        state.problem(start + total, f"{available - total} bytes after the Mobility Header "
                                     f"(Payload Proto {proto})", "warning")
    if fixed > total:
        state.problem(start + 1, f"Header Len {hlen} ({total} bytes) is shorter than the "
                                 f"{fixed}-byte fixed part of {draft.type_name}")
    msg_end = start + min(total, available)
    if total <= available:
        draft.checksum_ok = _verify(state, r.buf[start : start + total], checksum, next_header)
    # The fixed part is read from the packet even when Header Len is too small (like Wireshark).
    draft.body = _body(mh_type, r, msg_end, dialect)  # moves r.pos, which nothing reads after
    if mh_type in FIXED_LENGTH and fixed < total:  # other types' options follow unknown fixed parts
        opts = r.bounded(start + fixed, msg_end)
        snapped = total > available and state.snapped and msg_end >= state.frame_len
        found: list[MobilityOption] = []
        known = walk_options(opts, start, state, found, bid_type, dialect, snapped)
        # an area seen before: its shared tuple, which MobilityMessage keeps as it is (tuple())
        draft.options = found if known is None else known


def _verify(state: WalkState, mh: memoryview, checksum: int, next_header: int) -> bool | None:
    src = state.home_address_option or state.src
    dst = state.routing_type2 or state.dst
    if src is None or dst is None or ":" not in src or ":" not in dst:
        return None
    if mh_checksum(src, dst, mh) == checksum:
        return True
    # Pre-RFC stacks that sent next header 62 may have used it in the pseudo-header too.
    return next_header != NextHeader.MOBILITY and mh_checksum(src, dst, mh, next_header) == checksum
