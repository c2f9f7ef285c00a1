"""MCOA119-MCOA120: RFC 5648 BID option flags outside the Binding Update.

RFC §4.3: the H flag "is valid only for a Binding Update sent to the home agent", and the other
seven bits are Reserved, "MUST be initialized to zero by the sender". A Binding Acknowledgement
copies the BU's options (RFC §6.2 "all the Binding Identifier mobility options stored in the
Binding Update MUST be copied ... except the Status field"), so a BA may carry exactly the bits
of its BU's option and no others. H in a BU to a correspondent node is MCOA107; reserved bits in
a BU, CoTI or BRR are MCOA106. The draft-05 counterparts are MCOA502 (CoTI) and MCOA107.
"""

from __future__ import annotations

from dissector.codepoints import Dialect
from dissector.records import BindingIdentifier, Packet
from mcoaviz.checker.answers import AnswerReader, PerAnswer
from mcoaviz.checker.context import PacketContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.rules._common import packet_hit
from mcoaviz.checker.rules.acknowledgement import _ba_hit
from mcoaviz.engine import events as ev

RFC_H = 0x80
RFC_RESERVED = 0x7F
NOT_A_BU = frozenset({"CoTI", "CoT", "BRR"})


def _describe(byte: int) -> str:
    parts = ["H"] if byte & RFC_H else []
    if byte & RFC_RESERVED:
        parts.append(f"reserved 0x{byte & RFC_RESERVED:02x}")
    return f"0x{byte:02x} ({', '.join(parts)})"


def flags_outside_binding_update(ctx: PacketContext) -> list[Hit]:
    """What: (RFC 5648) a CoTI, CoT or BRR whose BID option sets the H flag, or a CoT whose BID
    option sets reserved bits.
    Why: RFC §4.3 H "is valid only for a Binding Update sent to the home agent"; the 7-bit
    Reserved field "MUST be initialized to zero by the sender" (reserved bits of a CoTI or BRR
    are MCOA106). The draft-05 rule for the CoTI is MCOA502.
    Example: RFC CoT whose BID option has flags byte 0x80 -> finding at the CoT.
    """
    mh = ctx.message
    if mh is None or mh.type_name not in NOT_A_BU:
        return []
    hits = []
    for b in mh.bids:
        if b.dialect is not Dialect.RFC5648:
            continue
        wrong = b.flags_byte & (RFC_H | (RFC_RESERVED if mh.type_name == "CoT" else 0))
        if wrong:
            hits.append(packet_hit(ctx, f"{mh.type_name} BID option for BID {b.bid} has flags "
                                   f"{_describe(b.flags_byte)}; RFC 5648 allows H only in a BU to "
                                   "the home agent and reserved bits must be zero.", b))
    return hits


@PerAnswer
def ack_flags_not_copied(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet,
                         ctx: AnswerReader) -> list[Hit]:
    """What: (RFC 5648) a BA whose BID option sets flag bits (H or reserved) that the same BID's
    option in the Binding Update it answers did not set.
    Why: RFC §6.2 the BA copies the BU's BID options (Status excepted), so only copied bits are
    explained; H is valid only in a BU to the home agent and reserved bits MUST be zero when sent
    (§4.3).
    Example: BU with BID 1 flags 0x00 -> BA with BID 1 flags 0x80 -> finding at the BA.
    """
    flagged = [b for b in ba.mobility.bids  # type: ignore[union-attr]
               if b.flags_byte and b.dialect is Dialect.RFC5648]
    if not flagged:  # no flag bit set in the BA's options (the usual case): nothing to explain
        return []
    hits = []
    sent: dict[int, BindingIdentifier] = {b.bid: b for b in bu.mobility.bids}  # type: ignore[union-attr]
    for b in flagged:
        original = sent.get(b.bid)
        extra = b.flags_byte & ~(original.flags_byte if original is not None else 0) & 0xFF
        if extra:
            hits.append(_ba_hit(p, ba, f"BA BID option for BID {b.bid} has flags "
                                f"{_describe(b.flags_byte)}, bits 0x{extra:02x} not copied from "
                                "the Binding Update.", b.bid))
    return hits
