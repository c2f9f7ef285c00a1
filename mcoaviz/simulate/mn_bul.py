"""The mobile node's binding update list as truth: rows follow what went on the wire."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dissector.codepoints import Dialect
from dissector.records import (
    BindingIdentifier,
    BindingUpdate,
)
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.mn_state import PendingBU
from mcoaviz.simulate.model import Transmission
from mcoaviz.simulate.network import Iface
from mcoaviz.simulate.truth import BulRow

if TYPE_CHECKING:
    from mcoaviz.simulate.mn_base import MobileNodeBase
else:
    MobileNodeBase = object  # the attributes come from MobileNode at run time


class BulMixin(MobileNodeBase):
    """BUL bookkeeping of ``MobileNode`` (which provides the attributes used here)."""

    def _as_sent(self, pending: PendingBU, tx: Transmission) -> PendingBU:
        """The pending BU rebuilt from the message actually sent (after a ``mangle_next``)."""
        spec = tx.intent
        body = spec.body
        if not isinstance(body, BindingUpdate):
            return pending
        bids = [o for o in spec.options if isinstance(o, BindingIdentifier)]
        known = dict(pending.entries)
        entries: list[tuple[int | None, str | None]] = (
            [(o.bid, o.coa or known.get(o.bid) or (spec.src if body.lifetime else None)) for o in bids]
            if bids
            else [(None, spec.src if body.lifetime else None)]
        )
        return PendingBU(
            pending.peer,
            entries,
            body.lifetime,
            pending.iface,
            pending.overwrite,
            pending.home,
            pending.timeout,
            tx,
            body.seq,
            pending.extra,
        )

    def send_raw(
        self,
        spec: MobilitySpec,
        src: Iface,
        dst: Iface,
        *,
        violation: tuple[str, str] | tuple[str, str, str] | None = None,
        deliver: bool = True,
    ) -> Transmission:
        """A hand-made message; a BU for this MN's HoA still enters its BUL (the truth's ``bul``
        follows what the MN put on the wire) and its BA is matched by sequence number."""
        tx = super().send_raw(spec, src, dst, violation=violation, deliver=deliver)
        body = spec.body
        if isinstance(body, BindingUpdate) and (spec.hao or spec.src) == self.hoa and dst.node is not self:
            peer = dst.node
            bids = [o for o in spec.options if isinstance(o, BindingIdentifier)]
            entries: list[tuple[int | None, str | None]] = (
                [(o.bid, o.coa or (spec.src if body.lifetime else None)) for o in bids]
                if bids
                else [(None, spec.src if body.lifetime else None)]
            )
            overwrite = bool(body.flags_word & 0x0040) or any(
                o.flags_byte & 0x40 for o in bids if self.dialect is Dialect.DRAFT05
            )
            pending = PendingBU(
                peer, entries, body.lifetime, src, overwrite, tx=tx, seq=body.seq, scripted=True
            )
            self.pending[(peer.address, body.seq)] = pending
            self._open_bul_rows(pending, tx)
        elif isinstance(body, BindingUpdate) and dst.node is not self and body.lifetime:
            # a BU claiming another home address: a BUL row of that (fake) MN, answered by seq
            peer = dst.node
            role = "home-agent" if peer is self.ha else "correspondent"
            hoa = spec.hao or spec.src
            claimed: list[BindingIdentifier | None] = [
                o for o in spec.options if isinstance(o, BindingIdentifier)
            ] or [None]
            rows = [
                BulRow(
                    hoa,
                    peer.address,
                    role,
                    o.bid if o else None,
                    (o.coa if o else None) or spec.src,
                    tx,
                    body.seq,
                    body.lifetime,
                )
                for o in claimed
            ]
            self.sim.truth.bul.extend(rows)
            self.foreign_rows[(peer.address, body.seq, hoa)] = rows
        return tx

    # ----------------------------------------------------------------- the BUL (truth)
    def _open_bul_rows(self, pending: PendingBU, tx: Transmission) -> None:
        peer = pending.peer.address
        role = "home-agent" if pending.peer is self.ha else "correspondent"
        for bid, coa in pending.entries:
            current = self.bul_rows.get((peer, bid))
            if current is not None and (coa is None or current.coa == coa):
                current.last_seq = pending.seq
                continue
            if coa is None:
                continue
            waiting = self.bul_pending.get((peer, bid, coa))
            if waiting is not None:
                waiting.last_seq = pending.seq
                continue
            row = BulRow(self.hoa, peer, role, bid, coa, tx, pending.seq, pending.lifetime)
            self.sim.truth.bul.append(row)
            self.bul_pending[(peer, bid, coa)] = row

    def _bul_accept(
        self,
        peer: str,
        bid: int | None,
        coa: str | None,
        status: int,
        lifetime: int,
        tx: Transmission,
        seq: int,
    ) -> None:
        fresh = self.bul_pending.pop((peer, bid, coa), None) if coa else None
        current = self.bul_rows.get((peer, bid))
        if fresh is not None:
            if current is not None:
                current.end_tx, current.end_reason = tx, "replaced"
            self.bul_rows[(peer, bid)] = current = fresh
        if current is None:
            return
        current.acknowledged, current.status, current.lifetime = True, status, lifetime
        current.last_ack_tx, current.last_seq = tx, seq
        row = current

        def expire() -> None:
            if self.bul_rows.get((peer, bid)) is row and row.last_ack_tx is tx:
                row.expired, row.end_reason = True, "expired"
                del self.bul_rows[(peer, bid)]

        self.sim.at_ns(self.sim.now + lifetime * 1_000_000_000, expire)

    def _bul_end(self, peer: str, bids: Sequence[int | None] | None, reason: str, tx: Transmission) -> None:
        """End the open rows of ``peer`` for ``bids`` (None = every row)."""
        for key in [k for k in self.bul_rows if k[0] == peer and (bids is None or k[1] in bids)]:
            row = self.bul_rows.pop(key)
            row.end_tx, row.end_reason = tx, reason

    def _bul_reject(self, peer: str, bid: int | None, coa: str | None, status: int, tx: Transmission) -> None:
        fresh = self.bul_pending.pop((peer, bid, coa), None) if coa else None
        if fresh is not None:
            fresh.end_tx, fresh.end_reason, fresh.status, fresh.acknowledged = tx, "rejected", status, True
