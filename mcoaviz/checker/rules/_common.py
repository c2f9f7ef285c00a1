"""Small helpers shared by the rule modules (no rule logic here)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from dissector.codepoints import Dialect
from dissector.records import BindingAck, BindingIdentifier, BindingUpdate, MobilityMessage, Packet
from mcoaviz.checker.context import HistoryContext, PacketContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import EventReader
from mcoaviz.engine import events as ev

T = TypeVar("T")
_SHARED: WeakKeyDictionary[HistoryContext, dict[Callable[..., Any], Any]] = WeakKeyDictionary()


def shared(ctx: HistoryContext, build: Callable[[HistoryContext], T]) -> T:
    """``build(ctx)``, computed once per history context: a selection several rules start from
    (e.g. the H-flag BUs) is made in one pass, not once per rule."""
    memo = _SHARED.setdefault(ctx, {})
    try:
        return memo[build]
    except KeyError:
        found = memo[build] = build(ctx)
        return found

VALID_BID_LENGTHS = frozenset({4, 8, 20})
# Messages that may carry a BID option (draft §4.2.1, RFC §4.3).
BID_CARRIERS = frozenset({"BU", "BA", "BRR", "CoTI", "CoT"})
# Messages that carry BID options copied from the MN's (draft §6.2, §6.3; RFC §6.2).
BID_COPIES = frozenset({"BA", "CoT"})


def packet_hit(ctx: PacketContext, message: str, bid: BindingIdentifier | None = None,
               key: str = "") -> Hit:
    return Hit(
        message=message,
        frame=ctx.packet.frame,
        time=ctx.packet.time,
        hoa=ctx.hoa,
        bid=None if bid is None else bid.bid,
        dialect=None if bid is None else bid.dialect,
        key=key,
    )


def home_registration(bu: BindingUpdate) -> bool:
    """BU header H flag: a home registration, i.e. a BU to the home agent (6275 §6.1.7)."""
    return "H" in bu.flags


def is_draft(bid: BindingIdentifier) -> bool:
    return bid.dialect is Dialect.DRAFT05


def bid_list(bids: tuple[int, ...] | list[int]) -> str:
    return ", ".join(str(b) for b in bids)


def same_prefix64(a: str | None, b: str | None) -> bool:
    """True when both are IPv6 addresses in the same /64 (our stand-in for 'same link')."""
    if not a or not b:
        return False
    try:
        na = ipaddress.IPv6Network(f"{a}/64", strict=False)
        return ipaddress.IPv6Address(b) in na
    except ValueError:
        return False


def seq_before(a: int, b: int) -> bool:
    """``a`` is older than ``b`` in 16-bit serial arithmetic (6275 §9.5.1)."""
    diff = (b - a) % 65536
    return 0 < diff < 32768


def mobility_of(packet: Packet | None) -> MobilityMessage | None:
    return None if packet is None else packet.mobility



def carried(ctx: HistoryContext, kind: type) -> bool:
    """Some Mobility Header message of the capture carries an option of this type: a rule about
    an option no message carries has nothing to look at (folded once: ``context.Folds``)."""
    return kind in ctx.folded.option_kinds


def ipv4_bid_carried(ctx: HistoryContext) -> bool:
    """Some message carries a BID option with an IPv4 care-of address (Length 8, or a CoA
    written without a colon)."""
    return ctx.folded.ipv4_bid


def answer_packets(p: ev.BindingUpdateProcessed, reader: EventReader) -> tuple[Packet, Packet] | None:
    """(BU packet, BA packet) of an outcome the engine paired with a captured BA, as
    ``HistoryContext.answered`` has it; read as the outcome arrives (the BU is still pending)."""
    if p.ba_frame is None:
        return None
    bu, ba = reader.packet(p.bu_frame), reader.packet(p.ba_frame)
    if bu is None or ba is None or not bu.mobility or not ba.mobility \
            or not isinstance(ba.mobility.body, BindingAck):
        return None
    return bu, ba
