"""The mobile node (or NEMO mobile router): draft §5 behaviour.

* One BID per interface (§5.1); registrations are bulk (one BU with every BID and CoA, §5.4) or
  individual (one BU per CoA, sent from that CoA, §5.3). IPv4 CoAs are registered
  individually over IPv4/UDP 4191 (§8.1).
* Retransmission when no BA arrives: RFC 6275 §11.8 back-off (1.5 s for the first home
  registration, 1 s otherwise, doubled up to 32 s), each retry with a new sequence number.
* On 135 the BU is retried with the BA's sequence number + 1 (I-20); on 165 (RFC) / BID
  CONFLICT (draft) with O set; on 168 from a CN with individual BUs; a BA without a BID
  option marks the peer as not supporting MCoA (§5.7).
* Refresh at 75 % of the granted lifetime, re-sending the same BIDs in the same mode.
* Return routability per CoA (§5.2): one HoTI through the HA, one CoTI per CoA with a BID
  option (no flags), then a BU to the CN from that CoA with HAO, BID, Nonce Indices and BAD.
* Returning home (§5.6): ``return_home_deregister_all`` (§5.6.1), ``deregister`` from a
  foreign interface (§5.6.2), ``return_home_simultaneous`` (§5.6.3: draft Lifetime 0 + H 0x20;
  RFC Lifetime > 0 + H 0x80 + CoA = HoA + MH-LLA).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dissector.codepoints import Dialect
from dissector.encode import (
    binding_identifier,
    binding_update,
    ipv6_packet,
    neighbor_advertisement,
    router_solicitation,
    udp_datagram,
)
from dissector.encode.ip import dsmip_udp, ip6ip6
from dissector.records import (
    BindingAck,
    BindingIdentifier,
    BindingRefreshRequest,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    HomeTest,
    HomeTestInit,
    IPv4HomeAddress,
    LinkLayerAddress,
    MobileNetworkPrefix,
    MobilityOption,
    NonceIndices,
)
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.model import Transmission
from mcoaviz.simulate.network import Iface, TrafficMeta
from mcoaviz.simulate.node import PROCESSING_DELAY, Node, Received
from mcoaviz.simulate.registrar import DSMIP_PORT, Registrar, auth_data
from mcoaviz.simulate.truth import BulRow

INITIAL_BINDACK_TIMEOUT = 1.0
INITIAL_BINDACK_TIMEOUT_FIRST_REG = 1.5
MAX_BINDACK_TIMEOUT = 32.0


@dataclass(eq=False)
class PendingBU:
    """A BU waiting for its BA; what to resend on timeout."""

    peer: Registrar
    entries: list[tuple[int | None, str | None]]  # (BID, CoA) pairs; [(None, coa)] = regular BU
    lifetime: int
    iface: Iface
    overwrite: bool = False
    home: bool = False
    timeout: float = INITIAL_BINDACK_TIMEOUT
    tx: Transmission | None = None
    seq: int = 0
    extra: tuple[MobilityOption, ...] = ()
    scripted: bool = False  # hand-made (send_raw): the BUL follows the BA, the MN does not react


@dataclass(eq=False)
class RRState:
    home_token: bytes | None = None
    home_index: int = 0
    careof: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # CoA -> (index, token)
    mcoa: bool = True  # the CN returned a BID in the CoT


class MobileNode(Node):
    role = "mobile-node"

    def __init__(
        self,
        sim,
        name: str,
        hoa: str,
        ha: Registrar,
        *,
        mac_base: int = 0x0B01,  # type: ignore[no-untyped-def]
        prefixes: Sequence[str] = (),
        lifetime: int = 400,
    ) -> None:
        super().__init__(sim, name, mac_base)
        self.hoa = hoa
        self.ha = ha
        self.prefixes = tuple(prefixes)  # NEMO mobile network prefixes (router when non-empty)
        self.lifetime = lifetime
        self.bids: dict[str, int] = {}
        self.seq: dict[str, int] = {}
        self.pending: dict[tuple[str, int], PendingBU] = {}
        self.bul_rows: dict[tuple[str, int | None], BulRow] = {}  # open (acknowledged) rows
        self.bul_pending: dict[tuple[str, int | None, str], BulRow] = {}  # sent, not yet acknowledged
        self.legacy_peers: set[str] = set()
        self.orphans: list[BulRow] = []  # BUL rows forgotten by a reboot
        self.foreign_rows: dict[tuple[str, int, str], list[BulRow]] = {}  # hand-made BUs for another HoA
        self.generation = 0  # bumped by reboot(): stale timers of an earlier life do nothing
        self.no_bulk_peers: set[str] = set()
        self.rr: dict[str, RRState] = {}
        self.auto_refresh = True
        self.esp_seq = 0
        self.ipv4_hoa_request = False
        self.on_home_status: int | None = None

    # ----------------------------------------------------------------- interfaces
    def add_interface(self, name: str, link: str | None, address: str | None, bid: int) -> Iface:
        iface = self.add_iface(name, self.sim.network.links[link] if link else None, address)
        self.bids[name] = bid
        if address:
            self._route(iface)
        return iface

    def _route(self, iface: Iface) -> None:
        if iface.address is None or iface.link is None:
            return
        self.sim.network.route(iface.address, iface)
        if iface.link.nat is not None:
            self.sim.network.route(iface.link.nat.public_address, iface)

    def move(self, name: str, link: str | None, address: str | None) -> None:
        """Handover: attach interface ``name`` to another link with a new CoA (or detach)."""
        iface = self.interfaces[name]
        if iface.address and self.sim.network.routes.get(iface.address) is iface:
            del self.sim.network.routes[iface.address]
        iface.link = self.sim.network.links[link] if link else None
        iface.address = address
        iface.up = link is not None
        self._route(iface)

    def reboot(self) -> None:
        """Lose every piece of mobility state (draft §5.10 bootstrapping): pending BUs, the BUL
        and the sequence numbers. The old BUL rows end when an O-flag BU replaces them."""
        self.pending.clear()
        self.orphans.extend(self.bul_rows.values())
        self.bul_rows.clear()
        self.bul_pending.clear()
        self.seq = {address: self.sim.rng.randrange(1, 10) for address in self.seq}
        self.legacy_peers.clear()
        self.generation += 1

    def iface_of_bid(self, bid: int) -> Iface:
        return next(self.interfaces[n] for n, b in self.bids.items() if b == bid)

    def next_seq(self, peer: Registrar) -> int:
        if peer.address not in self.seq:
            self.seq[peer.address] = self.sim.rng.randrange(1, 2000)
        self.seq[peer.address] = (self.seq[peer.address] + 1) % 65536
        return self.seq[peer.address]

    @property
    def dialect(self) -> Dialect:
        return self.sim.dialect

    # ----------------------------------------------------------------- registration with the HA
    def register(
        self,
        bids: Sequence[int] | None = None,
        *,
        bulk: bool = True,
        overwrite: bool = False,
        lifetime: int | None = None,
        via: int | None = None,
    ) -> None:
        """Register the given BIDs (default: every interface with an address) with the HA."""
        chosen = (
            [
                b
                for n, b in self.bids.items()
                if self.interfaces[n].address
                and self.interfaces[n].up
                and self.interfaces[n].address != self.hoa
            ]
            if bids is None
            else list(bids)
        )
        entries = [(bid, self.iface_of_bid(bid).address) for bid in chosen]
        life = self.lifetime if lifetime is None else lifetime
        v4 = [e for e in entries if e[1] and ":" not in e[1]]
        v6 = [e for e in entries if e not in v4]
        batch: list[PendingBU] = []
        if bulk and len(v6) > 1:
            sender = self.iface_of_bid(via if via is not None else v6[0][0])
            batch.append(PendingBU(self.ha, v6, life, sender, overwrite))
        else:
            batch += [PendingBU(self.ha, [e], life, self.iface_of_bid(e[0]), overwrite) for e in v6]
        # §8.1: an IPv4 CoA is registered alone, over IPv4/UDP
        batch += [PendingBU(self.ha, [e], life, self.iface_of_bid(e[0]), overwrite) for e in v4]
        self._send_spaced(batch)

    def deregister(
        self, bids: Sequence[int] | None = None, *, peer: Registrar | None = None, via: int | None = None
    ) -> None:
        """Lifetime-0 BU: for the given BIDs (§5.5), or for everything without a BID option."""
        target = peer or self.ha
        sender = self.iface_of_bid(via) if via is not None else self._any_foreign_iface()
        entries: list[tuple[int | None, str | None]] = (
            [(None, None)] if bids is None else [(b, None) for b in bids]
        )
        self._send_bu(PendingBU(target, entries, 0, sender))

    def register_regular(self, via: int, lifetime: int | None = None) -> None:
        """A plain RFC 6275 BU without a BID option (a regular binding)."""
        iface = self.iface_of_bid(via)
        self._send_bu(
            PendingBU(
                self.ha, [(None, iface.address)], self.lifetime if lifetime is None else lifetime, iface
            )
        )

    def _any_foreign_iface(self) -> Iface:
        return next(i for i in self.interfaces.values() if i.up and i.address and i.address != self.hoa)

    def _bid_option(self, bid: int, coa: str | None, *, overwrite: bool, home: bool) -> BindingIdentifier:
        return binding_identifier(
            bid, coa, overwrite=overwrite and self.dialect is Dialect.DRAFT05, home=home, dialect=self.dialect
        )

    def _send_bu(self, pending: PendingBU, *, seq: int | None = None) -> Transmission:
        peer = pending.peer
        if (
            pending.tx is None
            and peer is self.ha
            and pending.lifetime
            and not any((peer.address, bid) in self.bul_rows for bid, _ in pending.entries)
        ):
            pending.timeout = INITIAL_BINDACK_TIMEOUT_FIRST_REG  # RFC 6275 §11.8
        pending.seq = self.next_seq(peer) if seq is None else seq
        if seq is not None:
            self.seq[peer.address] = seq
        to_ha = peer is self.ha
        legacy = peer.address in self.legacy_peers
        letters = ["A"] + (["H"] if to_ha else [])
        if to_ha and self.sim.esp:
            letters.append("K")
        if to_ha and self.prefixes:
            letters.append("R")
        if pending.overwrite and self.dialect is Dialect.RFC5648:
            letters.append("O")
        options: list[MobilityOption] = []
        if to_ha and self.ipv4_hoa_request and pending.lifetime:
            options.append(IPv4HomeAddress(0, 32, False, "0.0.0.0"))
        for bid, coa in pending.entries:
            if bid is None or legacy:
                continue
            if not to_ha and self.dialect is Dialect.DRAFT05:
                coa = None  # draft: C is valid only towards the HA (§4.2.1)
            options.append(self._bid_option(bid, coa, overwrite=pending.overwrite, home=pending.home))
        options += pending.extra
        if to_ha and self.prefixes and pending.lifetime:
            for prefix in self.prefixes:
                address, length = prefix.split("/")
                options.append(MobileNetworkPrefix(0, int(length), address))
        iface = pending.iface
        esp = self._next_esp() if to_ha and self.sim.esp else None
        body = binding_update(pending.seq, pending.lifetime, *letters)
        if not to_ha:
            state = self.rr.get(peer.address, RRState())
            index = state.careof.get(iface.address or "", (0, b""))[0]
            options.append(NonceIndices(0, state.home_index, index))
            options.append(
                auth_data(self.hoa.encode(), (iface.address or "").encode(), str(pending.seq).encode())
            )
        assert iface.address is not None
        if ":" not in iface.address:
            spec = MobilitySpec(
                body,
                self.hoa,
                peer.address,
                tuple(options),
                esp=esp,
                udp=(iface.address, peer.ipv4_address(), DSMIP_PORT, DSMIP_PORT),
            )
            target = self.sim.network.iface_for(peer.ipv4_address())
        elif iface.address == self.hoa:
            spec = MobilitySpec(body, self.hoa, peer.address, tuple(options), esp=esp)
            target = self.ha.interfaces["home"]
        else:
            spec = MobilitySpec(body, iface.address, peer.address, tuple(options), hao=self.hoa, esp=esp)
            target = self.sim.network.iface_for(peer.address)
        assert target is not None
        tx = self.send_mh(spec, iface, target)
        pending.tx = tx
        if tx.intent is not spec:  # a scenario rewrote it: the BUL follows what went on the wire
            pending = self._as_sent(pending, tx)
        self.pending[(peer.address, pending.seq)] = pending
        self._open_bul_rows(pending, tx)
        timeout = pending.timeout
        key = (peer.address, pending.seq)
        self.sim.after(timeout, lambda: self._retransmit(key))
        return tx

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
            bids = [o for o in spec.options if isinstance(o, BindingIdentifier)] or [None]
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
                for o in bids
            ]
            self.sim.truth.bul.extend(rows)
            self.foreign_rows[(peer.address, body.seq, hoa)] = rows
        return tx

    def _next_esp(self) -> tuple[int, int]:
        self.esp_seq += 1
        return (0x1001, self.esp_seq)

    def _retransmit(self, key: tuple[str, int]) -> None:
        pending = self.pending.pop(key, None)
        if pending is None:
            return
        pending.timeout = min(pending.timeout * 2, MAX_BINDACK_TIMEOUT)
        self._send_bu(pending)

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

    # ----------------------------------------------------------------- receiving
    def receive_mh(self, message: Received) -> None:
        body = message.spec.body
        if isinstance(body, BindingAck):
            self._on_ba(message)
        elif isinstance(body, HomeTest):
            self._on_hot(message)
        elif isinstance(body, CareOfTest):
            self._on_cot(message)
        elif isinstance(body, BindingRefreshRequest):
            self.sim.after(PROCESSING_DELAY, lambda: self._on_brr(message))

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
                self.sim.after(PROCESSING_DELAY, lambda: self._send_bu(pending, seq=(ba.seq + 1) % 65536))
            return
        tx = message.tx
        bids = {o.bid: o for o in spec.options if isinstance(o, BindingIdentifier)}
        sent_bids = [b for b, _ in pending.entries if b is not None]
        if sent_bids and not bids and ba.status < 128:
            self.legacy_peers.add(peer)  # §5.7: no BID in the BA -> no MCoA at that peer
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
                self.sim.after(PROCESSING_DELAY, self._after_home_ba)
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
            stale = [
                k[1] for k in self.bul_rows if k[0] == peer and k[1] not in [b for b, _ in pending.entries]
            ]
            self._bul_end(peer, stale, "overwritten", tx)
        if pending.home:
            self.on_home_status = ba.status if ba.status < 128 else None
            self.sim.after(PROCESSING_DELAY, self._after_home_ba)
        if pending.scripted:
            return
        if ba.status == 165 and not pending.overwrite:
            pending.overwrite = True  # RFC §5.7 MUST / draft §5.7 SHOULD: retry with O
            self.sim.after(PROCESSING_DELAY, lambda: self._send_bu(pending))
            return
        if ba.status == 168 and len(pending.entries) > 1:
            self.no_bulk_peers.add(peer)
            for entry in pending.entries:
                iface = self.iface_of_bid(entry[0]) if entry[0] is not None else pending.iface
                single = PendingBU(pending.peer, [entry], pending.lifetime, iface)
                self.sim.after(PROCESSING_DELAY, lambda s=single: self._send_bu(s))
            return
        if accepted_any and self.auto_refresh and ba.lifetime:
            life = self.generation
            self.sim.after(ba.lifetime * 0.75, lambda: life == self.generation and self._refresh(pending, tx))

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
        peer = self.ha if peer_address == self.ha.address else self.sim.network.iface_for(peer_address).node
        rows = [
            (k[1], r.coa)
            for k, r in self.bul_rows.items()
            if len(k) == 2 and k[0] == peer_address and r.end_reason is None and (not named or k[1] in named)
        ]
        for bid, coa in rows:
            iface = self.iface_of_bid(bid) if bid is not None else self._any_foreign_iface()
            self._send_bu(PendingBU(peer, [(bid, coa)], self.lifetime, iface))

    # ----------------------------------------------------------------- return routability (§5.2)
    def route_optimise(
        self, cn: Registrar, bids: Sequence[int] | None = None, *, bulk: bool = False, lifetime: int = 240
    ) -> None:
        """HoTI through the HA, a CoTI per CoA, then BU(s) to the CN once the tokens arrived."""
        chosen = (
            list(bids)
            if bids is not None
            else [
                b
                for n, b in self.bids.items()
                if self.interfaces[n].up
                and self.interfaces[n].address
                and ":" in (self.interfaces[n].address or "")
                and self.interfaces[n].address != self.hoa
            ]
        )
        state = self.rr.setdefault(cn.address, RRState())
        self._rr_wanted = getattr(self, "_rr_wanted", {})
        self._rr_wanted[cn.address] = (cn, chosen, bulk, lifetime)
        tunnel_iface = self.iface_of_bid(chosen[0])
        hoti = MobilitySpec(
            HomeTestInit(self._cookie(b"home", cn.address)),
            self.hoa,
            cn.address,
            tunnel=(tunnel_iface.address or "", self.ha.address),
        )
        self.send_mh(hoti, tunnel_iface, self.ha.interfaces["uplink"])
        for bid in chosen:
            iface = self.iface_of_bid(bid)
            options = (binding_identifier(bid, dialect=self.dialect),)
            coti = MobilitySpec(
                CareOfTestInit(self._cookie(b"care-of", iface.address or "")),
                iface.address or "",
                cn.address,
                options,
            )
            self.send_mh(coti, iface, cn.interfaces["eth0"])
        state.careof.clear()

    def _cookie(self, *parts: bytes) -> bytes:
        return bytes(self.sim.rng.getrandbits(8) for _ in range(8))

    def _on_hot(self, message: Received) -> None:
        spec = message.spec
        assert isinstance(spec.body, HomeTest)
        state = self.rr.setdefault(spec.src, RRState())
        state.home_token, state.home_index = spec.body.keygen_token, spec.body.nonce_index
        self._rr_maybe_done(spec.src)

    def _on_cot(self, message: Received) -> None:
        spec = message.spec
        assert isinstance(spec.body, CareOfTest)
        state = self.rr.setdefault(spec.src, RRState())
        state.careof[spec.dst] = (spec.body.nonce_index, spec.body.keygen_token)
        if not any(isinstance(o, BindingIdentifier) for o in spec.options):
            state.mcoa = False  # §5.2: no BID in the CoT -> no BID in BUs to that CN
            self.legacy_peers.add(spec.src)
        self._rr_maybe_done(spec.src)

    def _rr_maybe_done(self, cn_address: str) -> None:
        wanted = getattr(self, "_rr_wanted", {}).get(cn_address)
        state = self.rr.get(cn_address)
        if wanted is None or state is None or state.home_token is None:
            return
        cn, bids, bulk, lifetime = wanted
        coas = [self.iface_of_bid(b).address for b in bids]
        if not all(c in state.careof for c in coas):
            return
        del self._rr_wanted[cn_address]
        if not state.mcoa:
            # a legacy CN holds one regular binding: register the first CoA only
            iface = self.iface_of_bid(bids[0])
            self._send_bu(PendingBU(cn, [(None, iface.address)], lifetime, iface))
            return
        if bulk and len(bids) > 1:
            first = self.iface_of_bid(bids[0])
            entries = [(b, self.iface_of_bid(b).address) for b in bids]
            self._send_bu(PendingBU(cn, entries, lifetime, first))
            return
        self._send_spaced(
            [PendingBU(cn, [(b, self.iface_of_bid(b).address)], lifetime, self.iface_of_bid(b)) for b in bids]
        )

    def _send_spaced(self, batch: list[PendingBU]) -> None:
        """Individual BUs 200 ms apart, so that the peer-wide sequence numbers (RFC §4.1) arrive in
        order over links of different latency."""
        for order, pending in enumerate(batch):
            if order == 0:
                self._send_bu(pending)
            else:
                self.sim.after(0.2 * order, lambda p=pending: self._send_bu(p))

    # ----------------------------------------------------------------- returning home (§5.6)
    def attach_home(self, name: str) -> None:
        """Interface ``name`` attaches to the home link (the HoA stays tentative) and sends an RS."""
        iface = self.interfaces[name]
        iface.link = self.ha.interfaces["home"].link
        iface.address = self.hoa
        iface.up = True
        self.sim.network.route(self.hoa + "%home", iface)
        rs = ipv6_packet("::", "ff02::2", 58, router_solicitation(), hop_limit=255)

        def solicited(_packet: bytes, receiver: Iface) -> None:
            node = receiver.node
            if hasattr(node, "send_router_advertisement"):
                self.sim.after(0.002, node.send_router_advertisement)
            elif hasattr(node, "advertise"):
                self.sim.after(0.004, node.advertise)

        self.sim.network.multicast(iface, "ff02::2", rs, kind="nd", on_arrival=solicited)

    def return_home_deregister_all(self, name: str) -> None:
        """§5.6.1: from the home link, de-register every binding at the HA (no BID option)."""
        iface = self.interfaces[name]
        self._send_bu(PendingBU(self.ha, [(None, None)], 0, iface, home=True))

    def return_home_simultaneous(self, name: str) -> None:
        """§5.6.3: draft = Lifetime 0 with H (0x20); RFC = Lifetime > 0, H (0x80), CoA = HoA, MH-LLA."""
        iface = self.interfaces[name]
        bid = self.bids[name]
        if self.dialect is Dialect.DRAFT05:
            self._send_bu(PendingBU(self.ha, [(bid, None)], 0, iface, home=True))
        else:
            lla = (LinkLayerAddress(0, 2, iface.mac),)
            self._send_bu(PendingBU(self.ha, [(bid, self.hoa)], self.lifetime, iface, home=True, extra=lla))

    def _after_home_ba(self) -> None:
        """Status 0: the MN owns ND for the HoA (unsolicited NA); RETURNHOME: it stays silent."""
        status, self.on_home_status = self.on_home_status, None
        home = next((i for i in self.interfaces.values() if i.address == self.hoa), None)
        if status != 0 or home is None:
            return
        body = neighbor_advertisement(self.hoa, home.mac, solicited=False, override=True)
        packet = ipv6_packet(self.hoa, "ff02::1", 58, body, hop_limit=255)
        self.sim.network.multicast(home, "ff02::1", packet, kind="nd")

    def answer_neighbor_solicitation(self, iface: Iface, asker: str, asker_mac: bytes) -> None:
        """Solicited NA for the HoA (only after status 0: the MN owns ND, §5.6.3)."""
        body = neighbor_advertisement(self.hoa, iface.mac, solicited=True, override=True)
        packet = ipv6_packet(self.hoa, asker, 58, body, hop_limit=255)
        self.sim.network.multicast(iface, asker, packet, kind="nd", dst_mac=asker_mac)

    # ----------------------------------------------------------------- data
    def send_data(self, cn: Registrar, bid: int, size: int, src: str | None = None) -> None:
        """A UDP datagram to ``cn`` from interface ``bid``: route-optimised with HAO when the CN
        acknowledged that BID, else reverse-tunnelled (6in6, or UDP 4191 for an IPv4 CoA)."""
        iface = self.iface_of_bid(bid)
        if not iface.up or not iface.address:
            return
        source = src or self.hoa
        payload = bytes(max(0, size))
        datagram = udp_datagram(source, cn.address, 5001, 5001, payload)
        ro = self.bul_rows.get((cn.address, bid))
        regular = self.bul_rows.get((cn.address, None))
        if ro is None and regular is not None and regular.coa == iface.address:
            ro = regular  # a legacy CN: one regular binding, usable from its CoA only
        target_cn = cn.interfaces["eth0"]
        if iface.address == self.hoa:
            self.sim.network.send(
                iface,
                self.ha.interfaces["home"],
                ipv6_packet(source, cn.address, 17, datagram),
                kind="data",
                on_arrival=lambda p, _i: self.ha.forward_from_mn(p, cn.address),
            )
            return
        if (
            ro is not None
            and ro.end_reason is None
            and ro.acknowledged
            and src is None
            and ":" in iface.address
        ):
            binding = cn.cache.of(self.hoa)
            known = next((b for b in binding.values() if b.coa == iface.address), None)
            packet = ipv6_packet(iface.address, cn.address, 17, datagram, hao=self.hoa)
            meta = TrafficMeta(
                cn.address, self.hoa, known.bid if known else bid, "from-mn", "route-optimised"
            )
            self.sim.network.send(iface, target_cn, packet, kind="data", traffic=meta)
            return
        inner = ipv6_packet(source, cn.address, 17, datagram)
        ha_binding = next(
            (
                b
                for b in self.ha.cache.of(self.hoa).values()
                if b.coa == iface.address
                or (b.udp_port and iface.link and iface.link.nat and b.coa == iface.link.nat.public_address)
            ),
            None,
        )
        if ha_binding is None:
            return  # no binding at the HA for this CoA: the MN does not use it
        if ":" not in iface.address:
            packet = dsmip_udp(iface.address, self.ha.ipv4_address(), DSMIP_PORT, DSMIP_PORT, inner)
            via, target = "udp", self.sim.network.iface_for(self.ha.ipv4_address())
        else:
            packet = ip6ip6(iface.address, self.ha.address, inner)
            via, target = "tunnel", self.ha.interfaces["uplink"]
        assert target is not None
        meta = TrafficMeta(self.ha.address, self.hoa, ha_binding.bid, "from-mn", via)
        self.sim.network.send(
            iface,
            target,
            packet,
            kind="data",
            traffic=meta,
            on_arrival=lambda _p, _i: self.ha.forward_from_mn(inner, cn.address),
        )

    def receive_tunnelled(self, inner: bytes, dst: str) -> None:
        """A tunnelled packet arrived; a mobile router forwards MNP traffic to its hosts."""
        if dst == self.hoa or not self.prefixes:
            return
        host = self.sim.network.iface_for(dst)
        lan = self.interfaces.get("lan")
        if host is not None and lan is not None:
            self.sim.network.send(lan, host, inner, kind="data")
