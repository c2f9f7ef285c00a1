"""Output filters over the analysis tables: which rows are about this HoA, CoA, node or BID.

The analysis always runs on everything (a binding's state needs every message); a ``RowFilter``
only decides what is shown. Criteria of one kind are alternatives (``--hoa A --hoa B``: either),
criteria of different kinds must all hold (``--hoa A --bid 2``: both). Addresses may be prefixes
(``2001:db8:1::/48``); a plain address is its own /128 (or /32).

What each criterion looks at, per table:

=========  =====================  ===============  ================  =============================
table      --hoa                  --coa            --node            --bid
=========  =====================  ===============  ================  =============================
bindings   hoa                    coa, claimed     node              bid
bul        hoa                    coa              peer              bid
traffic    hoa                    coa              node              bid
messages   hoa                    any address or   src, dst, outer   any BID option
                                  BID option CoA   src / dst
findings   hoa, else the message  the message at   the message at    bid, else the message at
           at its frame           its frame        its frame         its frame
=========  =====================  ===============  ================  =============================
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
NO_BID = "none"  # --bid none: rows without a Binding Identifier (regular bindings)


class QueryError(ValueError):
    """A filter or time the user wrote that cannot be understood (the message is one line)."""


def parse_network(text: str, what: str = "address") -> Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise QueryError(f"{what} {text!r} is not an IP address or prefix (e.g. 2001:db8:1::/48)") from None


def parse_bid(text: str) -> int | None:
    """A BID number (0-65535), or ``none`` for rows without a BID."""
    if text.strip().lower() == NO_BID:
        return None
    try:
        value = int(text, 10)
    except ValueError:
        raise QueryError(f"BID {text!r} is not a number (0-65535) or 'none'") from None
    if not 0 <= value <= 0xFFFF:
        raise QueryError(f"BID {value} is out of range (0-65535)")
    return value


def _address(text: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=1 << 16)  # each address of a big capture is tested once per filter, not once per row
def address_in(networks: tuple[Network, ...], text: str) -> bool:
    """Whether the address ``text`` lies in any of ``networks`` (False for anything not an address)."""
    address = _address(text)
    return address is not None and any(address.version == n.version and address in n for n in networks)


@dataclass(frozen=True, slots=True)
class RowFilter:
    hoas: tuple[Network, ...] = ()
    coas: tuple[Network, ...] = ()
    nodes: tuple[Network, ...] = ()
    bids: tuple[int | None, ...] = ()

    @classmethod
    def parse(cls, hoas: Sequence[str] = (), coas: Sequence[str] = (), nodes: Sequence[str] = (),
              bids: Sequence[str] = ()) -> RowFilter:
        """From the command line's strings; raises QueryError with a one-line reason."""
        return cls(tuple(parse_network(h, "home address") for h in hoas or ()),
                   tuple(parse_network(c, "care-of address") for c in coas or ()),
                   tuple(parse_network(n, "node") for n in nodes or ()),
                   tuple(parse_bid(b) for b in bids or ()))

    @property
    def active(self) -> bool:
        return bool(self.hoas or self.coas or self.nodes or self.bids)

    def describe(self) -> dict[str, list[Any]]:
        """The criteria as plain data (for an export's ``capture.query``)."""
        out: dict[str, list[Any]] = {}
        for name, values in (("hoa", self.hoas), ("coa", self.coas), ("node", self.nodes)):
            if values:
                out[name] = [str(v) for v in values]
        if self.bids:
            out["bid"] = list(self.bids)
        return out

    # ------------------------------------------------------------------ primitives
    @staticmethod
    def _in(networks: tuple[Network, ...], *addresses: Any) -> bool:
        return any(address_in(networks, text) for text in addresses if text)

    def _bid_ok(self, *bids: Any) -> bool:
        return any(b in self.bids for b in bids)

    # ------------------------------------------------------------------ per table
    def binding(self, row: dict[str, Any]) -> bool:
        return ((not self.hoas or self._in(self.hoas, row.get("hoa")))
                and (not self.coas or self._in(self.coas, row.get("coa"), row.get("claimed_coa")))
                and (not self.nodes or self._in(self.nodes, row.get("node")))
                and (not self.bids or self._bid_ok(row.get("bid"))))

    def bul(self, row: dict[str, Any]) -> bool:
        return ((not self.hoas or self._in(self.hoas, row.get("hoa")))
                and (not self.coas or self._in(self.coas, row.get("coa")))
                and (not self.nodes or self._in(self.nodes, row.get("peer")))
                and (not self.bids or self._bid_ok(row.get("bid"))))

    traffic = binding  # same keys: node, hoa, coa, bid

    def message(self, row: dict[str, Any]) -> bool:
        bids = row.get("bids") or ()
        addresses = (row.get("src"), row.get("dst"), row.get("outer_src"), row.get("outer_dst"))
        return ((not self.hoas or self._in(self.hoas, row.get("hoa")))
                and (not self.coas or self._in(self.coas, *addresses, *(b.get("coa") for b in bids)))
                and (not self.nodes or self._in(self.nodes, *addresses))
                and (not self.bids or self._bid_ok(*(b.get("bid") for b in bids))
                     or (None in self.bids and not bids)))

    def finding(self, row: dict[str, Any], message: dict[str, Any] | None) -> bool:
        """``message``: the Mobility Header message at the finding's frame, if there is one."""
        def via_message(criterion: Any) -> bool:
            return message is not None and criterion(message)

        if self.hoas and not (self._in(self.hoas, row.get("hoa")) if row.get("hoa")
                              else via_message(lambda m: self._in(self.hoas, m.get("hoa")))):
            return False
        if self.bids and not (self._bid_ok(row.get("bid")) if row.get("bid") is not None
                              else via_message(RowFilter(bids=self.bids).message)):
            return False
        if self.coas and not via_message(RowFilter(coas=self.coas).message):
            return False
        return not self.nodes or via_message(RowFilter(nodes=self.nodes).message)

    # ------------------------------------------------------------------ whole tables
    def findings(self, findings: Iterable[dict[str, Any]],
                 messages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        if not self.active:
            return list(findings)
        by_frame = {m["frame"]: m for m in messages}
        return [f for f in findings if self.finding(f, by_frame.get(f.get("frame")))]
