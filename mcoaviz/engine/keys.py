"""Keys of the engine's tables and role inference.

A binding cache entry is keyed by (node, home address, BID) (draft §3, §6.1; RFC §3, §6.1); a
binding update list entry by (MN home address, peer, BID). ``bid`` is None for a regular
(non-MCoA) binding. Roles are inferred from the traffic alone: a BU with the H (home
registration) flag goes to a home agent, one without it to a correspondent node.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dissector.records import BindingUpdate
from mcoaviz.engine.quickinit import quick_init


class Role(StrEnum):
    HOME_AGENT = "home-agent"
    CORRESPONDENT = "correspondent"


def role_of_bu(bu: BindingUpdate) -> Role:
    """The BU header H flag (0x4000, 6275 §6.1.7) asks for a home registration."""
    return Role.HOME_AGENT if "H" in bu.flags else Role.CORRESPONDENT


def _bid_order(bid: int | None) -> int:
    return -1 if bid is None else bid


@dataclass(frozen=True, slots=True)
class BindingKey:
    """One binding cache entry at one node (home agent or correspondent node)."""

    node: str  # address of the node holding the cache (the BU's destination)
    hoa: str
    bid: int | None  # None: regular binding

    def sort_key(self) -> tuple[str, str, int]:
        return (self.node, self.hoa, _bid_order(self.bid))


@dataclass(frozen=True, slots=True)
class BulKey:
    """One binding update list entry of a mobile node (identified by its home address)."""

    hoa: str
    peer: str  # the home agent or correspondent node the BU went to
    bid: int | None

    def sort_key(self) -> tuple[str, str, int]:
        return (self.hoa, self.peer, _bid_order(self.bid))


@dataclass(frozen=True, slots=True)
class ExchangeKey:
    """A BU/BA exchange: the peer node, the MN's home address and the sequence number.

    BU and BA are paired on this key (6275 §6.1.8: the BA echoes the BU's sequence number).
    """

    node: str
    hoa: str
    seq: int


@dataclass(frozen=True, slots=True)
class PeerKey:
    """A (home address, peer) pair, for messages that concern a mobile node and a peer."""

    hoa: str
    peer: str


for _key in (BindingKey, BulKey, ExchangeKey, PeerKey):  # built several times per message
    quick_init(_key)
