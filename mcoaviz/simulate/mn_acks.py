"""How the mobile node reads a Binding Acknowledgement (§5.7), refreshes (§5.3) and answers a
Binding Refresh Request (§5.8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dissector.records import BindingAck, BindingIdentifier
from dissector.sequence import seq_newer
from mcoaviz.simulate.mn_state import PendingBU
from mcoaviz.simulate.model import Transmission
from mcoaviz.simulate.network import Iface
from mcoaviz.simulate.node import Received
from mcoaviz.simulate.registrar import Registrar

if TYPE_CHECKING:
    from mcoaviz.simulate.mn_base import MobileNodeBase
else:
    MobileNodeBase = object  # the attributes come from MobileNode at run time


class AckMixin(MobileNodeBase):
    """BA / BRR handling of ``MobileNode``."""

    def _on_ba(self, message: Received) -> None:
        spec = message.spec
        ba = spec.body
        assert isinstance(ba, BindingAck)
        peer = spec.src
        foreign = self.foreign_rows.pop((peer, ba.seq, spec.rh2 or spec.dst), None)
        if foreign is not None:
            for row in foreign:
                row.acknowledged, row.status, row.lifetime, row.last_ack_tx = (
                    True,
                    ba.status,
                    ba.lifetime,
                    message.tx,
                )
                if ba.status >= 128:
                    row.end_tx, row.end_reason = message.tx, "rejected"
            return
        pending = self.pending.pop((peer, ba.seq), None)
        if pending is None and ba.status == 135:  # carries the peer's last accepted number instead
            waiting = sorted((k for k in self.pending if k[0] == peer), key=lambda k: k[1])
            pending = self.pending.pop(waiting[-1]) if waiting else None
        if pending is None:
            return
        if ba.status == 135:
            if not pending.scripted:
                self.sim.after(
                    self.sim.processing_delay(), lambda: self._send_bu(pending, seq=(ba.seq + 1) % 65536)
                )
            return
        tx = message.tx
        bids = {o.bid: o for o in spec.options if isinstance(o, BindingIdentifier)}
        sent_bids = [b for b, _ in pending.entries if b is not None]
        if sent_bids and not bids and ba.status < 128:
            self.legacy_peers.add(peer)  # §5.7: no BID in the BA -> no MCoA at that peer
            # I-10: the peer holds one regular binding for the BU's source; the other CoAs are unused
            source = pending.iface.address
            self.leaving.update((peer, b) for b, c in pending.entries if b is not None and c != source)
        if pending.lifetime == 0:
            done = [
                bid
                for bid, _ in pending.entries
                if (bids[bid].status if bid in bids and bids[bid].status else ba.status) < 128
            ]
            if done and not pending.home or (pending.home and sent_bids == []):
                self._bul_end(peer, None if not sent_bids else done, "deregistered", tx)
            if pending.home:
                home_option = bids.get(sent_bids[0]) if sent_bids else None
                self.on_home_status = (
                    home_option.status if home_option is not None and home_option.status else ba.status
                )
                if sent_bids:
                    self._bul_end(peer, sent_bids, "deregistered", tx)
                self.sim.after(self.sim.processing_delay(), self._after_home_ba)
            return
        accepted_any = False
        for bid, coa in pending.entries:
            option = bids.get(bid) if bid is not None else None
            status = option.status if option is not None and option.status else ba.status
            if status < 128:
                accepted_any = True
                self._bul_accept(peer, bid, coa, status, ba.lifetime, tx, ba.seq)
            else:
                self._bul_reject(peer, bid, coa, status, tx)
        if accepted_any and pending.overwrite:
            for row in self.orphans:
                if row.peer == peer and row.end_reason is None:
                    row.end_tx, row.end_reason = tx, "overwritten"
        if accepted_any and (pending.overwrite or not sent_bids):
            sent = [b for b, _ in pending.entries]
            # rows registered by a later BU (acknowledged first over a faster link) survive
            stale = [
                k[1]
                for k, row in self.bul_rows.items()
                if k[0] == peer and k[1] not in sent and not seq_newer(row.last_seq, ba.seq)
            ]
            self._bul_end(peer, stale, "overwritten", tx)
        if pending.home:
            self.on_home_status = ba.status if ba.status < 128 else None
            self.sim.after(self.sim.processing_delay(), self._after_home_ba)
        if pending.scripted:
            return
        if ba.status == 165 and not pending.overwrite:
            pending.overwrite = True  # RFC §5.7 MUST / draft §5.7 SHOULD: retry with O
            self.sim.after(self.sim.processing_delay(), lambda: self._send_bu(pending))
            return
        if ba.status == 168 and len(pending.entries) > 1:
            self.no_bulk_peers.add(peer)
            singles = [
                PendingBU(
                    pending.peer,
                    [e],
                    pending.lifetime,
                    self.iface_of_bid(e[0]) if e[0] is not None else pending.iface,
                )
                for e in pending.entries
            ]
            self.sim.after(self.sim.processing_delay(), lambda: self._send_spaced(singles))
            return
        if accepted_any and self.auto_refresh and ba.lifetime:
            life = self.generation

            def refresh() -> None:
                if life == self.generation:  # a timer of an earlier life (before a reboot) does nothing
                    self._refresh(pending, tx)

            self.sim.after(ba.lifetime * 0.75, refresh)

    def _refresh(self, pending: PendingBU, ack: Transmission) -> None:
        live = [
            (bid, coa)
            for bid, coa in pending.entries
            if (row := self.bul_rows.get((pending.peer.address, bid))) is not None
            and row.end_reason is None
            and row.last_ack_tx is ack
            and row.coa == coa
            and self._still_has(bid, coa, pending.iface)
        ]
        if not live or not pending.iface.up:
            return
        again = PendingBU(
            pending.peer, live, pending.lifetime, pending.iface, home=pending.home, extra=pending.extra
        )
        if pending.peer is self.ha or pending.peer.address in self.rr:
            self._send_bu(again)

    def _still_has(self, bid: int | None, coa: str | None, sender: Iface) -> bool:
        """Whether the MN still owns the CoA of a BUL entry (an interface that went away is not
        refreshed: its bindings are left to expire)."""
        if bid is None:
            return sender.up and sender.address == coa
        iface = self.iface_of_bid(bid)
        if iface.link is not None and iface.link.nat is not None and coa == iface.link.nat.public_address:
            return iface.up
        return iface.up and (iface.address == coa or coa == self.hoa)

    def _on_brr(self, message: Received) -> None:
        """§5.8: refresh the bindings named by the BRR's BID options (all, if none)."""
        peer_address = message.spec.src
        named = [o.bid for o in message.spec.options if isinstance(o, BindingIdentifier)]
        peer: Registrar = self.ha
        if peer_address != self.ha.address:
            sender = self.sim.network.iface_for(peer_address)
            # only a home agent or correspondent (a routed Registrar) sends a BRR
            assert sender is not None and isinstance(sender.node, Registrar)
            peer = sender.node
        rows = [
            (k[1], r.coa)
            for k, r in self.bul_rows.items()
            if len(k) == 2 and k[0] == peer_address and r.end_reason is None and (not named or k[1] in named)
        ]
        for bid, coa in rows:
            iface = self.iface_of_bid(bid) if bid is not None else self._any_foreign_iface()
            self._send_bu(PendingBU(peer, [(bid, coa)], self.lifetime, iface))
