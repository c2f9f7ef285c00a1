"""MCOA1xx: format and placement of the Binding Identifier option (stateless, per packet).

Draft-05 carries C/O/H/D flags in the option; RFC 5648 only H, with CoA presence and family
read from Length. ``BindingIdentifier`` exposes both through ``coa_flag``, ``ipv4_flag``,
``home_flag``, ``overwrite_flag`` and ``reserved_bits``.
"""

from __future__ import annotations

from dissector.codepoints import BU_FLAG_O, BU_FLAG_P, Dialect
from dissector.records import AlternateCoA, BindingAuthData, BindingIdentifier
from mcoaviz.checker.context import PacketContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.rules._common import (
    BID_CARRIERS,
    BID_COPIES,
    VALID_BID_LENGTHS,
    home_registration,
    is_draft,
    packet_hit,
)


def _sent_bids(ctx: PacketContext, kinds: frozenset[str]) -> tuple[BindingIdentifier, ...]:
    mh = ctx.message
    if mh is None or mh.type_name not in kinds:
        return ()
    return mh.bids


def zero_bid(ctx: PacketContext) -> list[Hit]:
    """What: a Binding Update or Care-of Test Init whose BID option carries BID 0.
    Why: draft §2 and §5.1 "The zero value ... MUST NOT be used"; RFC 5648 §4.3/§5.1 reserve 0
    and say it SHOULD NOT be used (so the finding is an error in draft-05, a warning in RFC 5648).
    Example: BU with BID option (BID=0, Length 20) -> one finding at the BU's frame.
    """
    return [
        packet_hit(ctx, f"{ctx.message.type_name} uses BID 0, which is reserved.", b)  # type: ignore[union-attr]
        for b in _sent_bids(ctx, frozenset({"BU", "CoTI"}))
        if b.bid == 0
    ]


def invalid_length(ctx: PacketContext) -> list[Hit]:
    """What: a BID option whose Length is not 4, 8 or 20.
    Why: draft §4.2.1/§6.3 and RFC §4.3/§6.2: Length MUST be 4, 8 or 20; a receiver MUST reject
    such a BU with MCOA MALFORMED.
    Example: BU with a BID option of Length 6 -> finding at the BU.
    """
    mh = ctx.message
    if mh is None:
        return []
    return [
        packet_hit(ctx, f"BID option for BID {b.bid} in a {mh.type_name} has Length {b.length}, "
                   "not 4, 8 or 20.", b)
        for b in mh.bids
        if b.length not in VALID_BID_LENGTHS
    ]


def _draft_bu_bids(ctx: PacketContext) -> tuple[BindingIdentifier, ...]:
    return tuple(b for b in _sent_bids(ctx, frozenset({"BU"})) if is_draft(b)
                 and b.length in VALID_BID_LENGTHS)


def coa_flag_without_coa(ctx: PacketContext) -> list[Hit]:
    """What: (draft-05) a BU's BID option with the C flag set but no Care-of Address (Length 4).
    Why: draft §4.2.1 (Length MUST be 8 or 20 when C is set) and §6.3 ("When C flag is specified,
    the care-of address MUST be given").
    Example: draft BU, BID option flags C, Length 4 -> finding at the BU.
    """
    return [packet_hit(ctx, f"BID {b.bid} has the C flag set but carries no care-of address.", b)
            for b in _draft_bu_bids(ctx) if b.coa_flag and b.length == 4]


def coa_without_coa_flag(ctx: PacketContext) -> list[Hit]:
    """What: (draft-05) a BU's BID option that carries a Care-of Address (Length 8/20) without C.
    Why: draft §4.2.1: Length "MUST be set to 4 when the 'C' flag is unset".
    Example: draft BU, BID option flags none, Length 20 -> finding at the BU.
    """
    return [packet_hit(ctx, f"BID {b.bid} carries a care-of address (Length {b.length}) "
                       "but the C flag is clear.", b)
            for b in _draft_bu_bids(ctx) if not b.coa_flag and b.length in (8, 20)]


def ipv4_flag_mismatch(ctx: PacketContext) -> list[Hit]:
    """What: (draft-05) the D flag disagrees with the address in a BU's BID option.
    Why: draft §4.2.1: with C set, Length MUST be 8 or 20 "depending on the 'D' (DSMIPv6) flag";
    "If this flag is set, the Care-of Address field MUST be used".
    Example: draft BU, flags C+D, Length 20 (an IPv6 address) -> finding at the BU.
    """
    hits = []
    for b in _draft_bu_bids(ctx):
        if b.ipv4_flag and b.length != 8:
            hits.append(packet_hit(ctx, f"BID {b.bid} has the D (IPv4) flag but Length {b.length} "
                                   "instead of 8.", b))
        elif not b.ipv4_flag and b.coa_flag and b.length == 8:
            hits.append(packet_hit(ctx, f"BID {b.bid} carries an IPv4 care-of address (Length 8) "
                                   "without the D flag.", b))
    return hits


def reserved_bits(ctx: PacketContext) -> list[Hit]:
    """What: reserved flag bits set in a BID option sent by the mobile node or in a BRR.
    Why: draft §4.2.1 "Reserved field MUST be set with all 0" (bits 0x0F); RFC §4.3 the 7 bits
    0x7F MUST be 0 on sending. With type 35 they may be RFC 6089 BID-PRI (I-27), hence only a
    warning in RFC 5648 captures.
    Example: BU with BID flags byte 0x81 -> finding at the BU.
    """
    hits = []
    for b in _sent_bids(ctx, frozenset({"BU", "CoTI", "BRR"})):
        if b.reserved_bits:
            extra = "" if is_draft(b) else " (RFC 6089 BID-PRI uses these bits)"
            hits.append(packet_hit(ctx, f"BID {b.bid} has reserved flag bits 0x{b.reserved_bits:02x} "
                                   f"set{extra}.", b))
    return hits


def ha_only_flag_to_correspondent(ctx: PacketContext) -> list[Hit]:
    """What: a BU to a correspondent node (no H header flag) with BID option flags that are
    valid only towards the home agent: C, O, H in draft-05; H in RFC 5648.
    Why: draft §4.2.1 "This flag is valid only for binding update sent to the home agent" (C, O,
    H); RFC §4.3 the same for H. Interpretation I-32: a finding against the mobile node.
    Example: BU without H to a CN, BID option with the C flag -> finding at the BU.
    """
    bu = ctx.bu
    if bu is None or home_registration(bu):
        return []
    hits = []
    for b in ctx.message.bids:  # type: ignore[union-attr]
        letters = [f for f in b.flags if f in ("C", "O", "H")] if is_draft(b) else \
            (["H"] if b.home_flag else [])
        if letters:
            hits.append(packet_hit(ctx, f"BID {b.bid} in a BU to a correspondent node sets "
                                   f"{'/'.join(letters)}, valid only towards the home agent.", b))
    return hits


def coa_outside_bu(ctx: PacketContext) -> list[Hit]:
    """What: a Care-of Address field in a BID option of a message the mobile node originates
    other than a BU (CoTI), or of any message that may not carry the option at all.
    Why: draft §4.2.1 "This field MUST NOT be used ... in any other messages than a Binding
    Update"; RFC §4.3 "the CoA MUST be absent".
    Example: CoTI with a BID option of Length 20 -> finding at the CoTI.
    """
    mh = ctx.message
    if mh is None or mh.type_name == "BU" or mh.type_name in BID_COPIES or mh.type_name == "BRR":
        return []
    return [packet_hit(ctx, f"BID {b.bid} in a {mh.type_name} carries a care-of address, allowed "
                       "only in a Binding Update.", b)
            for b in mh.bids if b.coa is not None]


def coa_copied_into_reply(ctx: PacketContext) -> list[Hit]:
    """What: a BA, CoT or BRR whose BID option still carries a Care-of Address.
    Why: draft §4.2.1 forbids the field outside a BU, but §6.2/§6.3 copy the options and only
    say the CoA "can be omitted" (D15; RFC R1). Interpretation I-4: accept it, note it (info).
    Example: BA echoing BID option with Length 20 -> info at the BA.
    """
    mh = ctx.message
    if mh is None or mh.type_name not in (BID_COPIES | {"BRR"}):
        return []
    return [packet_hit(ctx, f"BID {b.bid} in a {mh.type_name} still carries a care-of address.", b)
            for b in mh.bids if b.coa is not None]


def bid_in_unexpected_message(ctx: PacketContext) -> list[Hit]:
    """What: a BID option in a Mobility Header message that is not a BU, BA, BRR, CoTI or CoT.
    Why: draft §4.2.1 and RFC §4.3 list exactly those five carriers.
    Example: Binding Error or HoTI with a BID option -> finding at that frame.
    """
    mh = ctx.message
    if mh is None or mh.type_name in BID_CARRIERS or not mh.bids:
        return []
    return [packet_hit(ctx, f"A {mh.type_name} carries a BID option (BID {mh.bids[0].bid}); only BU, "
                       "BA, BRR, CoTI and CoT may.", mh.bids[0])]


def duplicate_bid(ctx: PacketContext) -> list[Hit]:
    """What: the same BID twice in one Binding Update.
    Why: draft §5.1 "The BID MUST be unique for a binding"; RFC §5.1 unique per home address.
    Example: bulk BU with two options for BID 1 -> finding at the BU.
    """
    bids = _sent_bids(ctx, frozenset({"BU"}))
    seen: set[int] = set()
    hits = []
    for b in bids:
        if b.bid in seen:
            hits.append(packet_hit(ctx, f"BID {b.bid} appears more than once in one Binding Update.",
                                   b, key=str(b.bid)))
        seen.add(b.bid)
    return hits


def alternate_coa_with_bid(ctx: PacketContext) -> list[Hit]:
    """What: a home registration BU carrying both BID option(s) and an Alternate Care-of Address.
    Why: draft §5.3/§5.4 "The alternate care-of address option MUST be omitted" (when ESP
    protects the BU, as it does for home registrations); RFC §5.2 MUST NOT be included.
    Example: BU with H, BID option and Alternate CoA option -> finding at the BU.
    """
    bu, mh = ctx.bu, ctx.packet.mobility
    if bu is None or mh is None or not mh.bids or not home_registration(bu):
        return []
    for o in mh.options:  # a loop, not any(genexpr): this runs on every BU
        if isinstance(o, AlternateCoA):
            return [packet_hit(ctx, "Home registration with a BID option also carries an Alternate "
                               "Care-of Address option.", mh.bids[0])]
    return []


def auth_data_before_bid(ctx: PacketContext) -> list[Hit]:
    """What: a BU whose Binding Authorization Data option is not after its BID option(s).
    Why: draft §5.3 "protected by a Binding Authorization Data mobility option placed after the
    Binding Identifier mobility option"; RFC §5.2 the same; 6275 §6.2.7 BAD is the last option.
    Example: BU to a CN with options [BAD, BID] -> finding at the BU.
    """
    mh = ctx.packet.mobility
    if ctx.bu is None or mh is None or not mh.bids:
        return []
    last_auth = last_bid = -1  # one pass over the options (this runs on every BU)
    for i, o in enumerate(mh.options):
        if isinstance(o, BindingAuthData):
            last_auth = i
        elif isinstance(o, BindingIdentifier):
            last_bid = i
    if last_auth >= 0 and last_auth < last_bid:
        return [packet_hit(ctx, "Binding Authorization Data precedes the BID option; it must come "
                           "after it.", mh.bids[-1])]
    return []


def home_registration_without_coa(ctx: PacketContext) -> list[Hit]:
    """What: (draft-05) a registering home registration (BU H flag, Lifetime > 0) whose BID
    option has no C flag, so the care-of address is not in the option.
    Why: draft §5.3 "When ESP is used for binding update, the care-of address MUST be stored in
    the Care-of Address field by setting C flag" (and §4.2.1 for independent registration). A
    warning: §6.3 still defines C-clear processing (D12), and ESP use is not always visible.
    Example: draft BU H, Lifetime 400, BID 1 with no flags (Length 4) -> warning at the BU.
    """
    bu = ctx.bu
    if bu is None or not home_registration(bu) or bu.lifetime == 0:
        return []
    return [packet_hit(ctx, f"Home registration carries BID {b.bid} without the C flag and care-of "
                       "address.", b)
            for b in ctx.message.bids  # type: ignore[union-attr]
            if is_draft(b) and not b.coa_flag and not b.home_flag and b.length == 4]



def ipv4_coa_to_correspondent(ctx: PacketContext) -> list[Hit]:
    """What: (RFC 5648) a BU to a correspondent node whose BID option carries an IPv4 care-of
    address (Length 8).
    Why: RFC §4.3 "IPv4 or IPv6 care-of address ... in a home registration; only IPv6 ... in a
    Binding Update sent to a correspondent node" (no status is defined for it, R13).
    Example: RFC BU without H to a CN with BID 1 Length 8 -> finding at the BU.
    """
    bu = ctx.bu
    if bu is None or home_registration(bu):
        return []
    return [packet_hit(ctx, f"BID {b.bid} carries an IPv4 care-of address in a BU to a correspondent "
                       "node.", b)
            for b in ctx.message.bids if not is_draft(b) and b.length == 8]  # type: ignore[union-attr]


def overwrite_without_bid(ctx: PacketContext) -> list[Hit]:
    """What: (RFC 5648) a BU with the O flag (0x0040, P clear) but no BID option.
    Why: RFC §4.2 "This flag is only used when the BID mobility option is carried with the
    Binding Update" (no keyword: warning).
    Example: RFC BU flags A, H, O without options -> warning at the BU.
    """
    bu = ctx.bu
    if bu is None or ctx.dialect is not Dialect.RFC5648 or ctx.message.bids:  # type: ignore[union-attr]
        return []
    if "O" in bu.flags and "P" not in bu.flags:
        return [packet_hit(ctx, "BU sets the O flag but carries no BID option.")]
    return []


def draft_reserved_bu_flag(ctx: PacketContext) -> list[Hit]:
    """What: (draft-05) a BU with header bit 0x0040 set (P clear): reserved in draft-05, where O
    lives in the BID option; it is RFC 5648's O.
    Why: 6275 §6.1.7 reserved bits are set to zero by the sender and ignored by the receiver, so
    a draft home agent drops this O silently (draft05-vs-rfc5648 §1.2, I-26: note it).
    Example: draft BU flags A, H with 0x0040 set and a BID option with C -> info at the BU.
    """
    bu = ctx.bu
    bids = ctx.message.bids if ctx.message is not None else ()
    if bu is None or not bids or not all(is_draft(b) for b in bids):
        return []
    if bu.flags_word & BU_FLAG_O and not bu.flags_word & BU_FLAG_P:
        return [packet_hit(ctx, "BU header bit 0x0040 (RFC 5648 O) is set; draft-05 reserves it and "
                           "ignores it.", bids[0])]
    return []
