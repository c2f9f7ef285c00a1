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
from functools import partial
from typing import TYPE_CHECKING

from dissector.codepoints import Dialect
from dissector.encode import (
    binding_identifier,
    binding_update,
)
from dissector.records import (
    BindingAck,
    BindingIdentifier,
    BindingRefreshRequest,
    CareOfTest,
    HomeTest,
    IPv4HomeAddress,
    MobileNetworkPrefix,
    MobilityOption,
    NonceIndices,
)
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.mn_acks import AckMixin
from mcoaviz.simulate.mn_bul import BulMixin
from mcoaviz.simulate.mn_home_data import HomeAndDataMixin
from mcoaviz.simulate.mn_return_routability import ReturnRoutabilityMixin
from mcoaviz.simulate.mn_state import (
    INITIAL_BINDACK_TIMEOUT_FIRST_REG,
    MAX_BINDACK_TIMEOUT,
    PendingBU,
    RRState,
)
from mcoaviz.simulate.model import Simulation, Transmission
from mcoaviz.simulate.network import Iface
from mcoaviz.simulate.node import Node, Received
from mcoaviz.simulate.registrar import DSMIP_PORT, Registrar, auth_data
from mcoaviz.simulate.truth import BulRow

if TYPE_CHECKING:
    from mcoaviz.simulate.home_agent import HomeAgent

__all__ = ["MobileNode", "PendingBU", "RRState"]


class MobileNode(AckMixin, BulMixin, ReturnRoutabilityMixin, HomeAndDataMixin, Node):
    role = "mobile-node"

    def __init__(
        self,
        sim: Simulation,
        name: str,
        hoa: str,
        ha: HomeAgent,
        *,
        mac_base: int = 0x0B01,
        prefixes: Sequence[str] = (),
        lifetime: int = 400,
        dialect: Dialect | None = None,
    ) -> None:
        super().__init__(sim, name, mac_base)
        self.hoa = hoa
        self.own_dialect = dialect  # None: the simulation's; else this node's own text (interop)
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
        self.bootstrapped: set[str] = set()  # peers already sent an MCoA registration in this life
        self._rr_wanted: dict[str, tuple[Registrar, list[int], bool, int]] = {}  # CN -> RR in progress
        self.leaving: set[tuple[str, int | None]] = set()  # (peer, BID) being de-registered: unused
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
        self.seq = {address: 0 for address in self.seq}  # a rebooted MN counts from 0 again
        self.legacy_peers.clear()
        self.bootstrapped.clear()
        self.leaving.clear()
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
        return self.own_dialect or self.sim.dialect

    def owns(self, address: str) -> bool:
        """``address`` is this node's home address or one of its care-of addresses."""
        return address == self.hoa or any(i.address == address for i in self.interfaces.values())

    # ----------------------------------------------------------------- registration with the HA
    def register(
        self,
        bids: Sequence[int] | None = None,
        *,
        bulk: bool = True,
        overwrite: bool | None = None,
        lifetime: int | None = None,
        via: int | None = None,
    ) -> None:
        """Register the given BIDs (default: every interface with an address) with the HA.

        ``overwrite=None``: set O on the first MCoA registration of this life (bootstrapping,
        RFC §5.9 MUST / draft §5.10 SHOULD), not afterwards."""
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
        first = overwrite if overwrite is not None else self.ha.address not in self.bootstrapped
        self.bootstrapped.add(self.ha.address)
        overwrite = bool(overwrite)
        if bulk and len(v6) > 1:
            sender = self.iface_of_bid(via if via is not None else v6[0][0])
            batch.append(PendingBU(self.ha, v6, life, sender, overwrite))
        else:
            batch += [PendingBU(self.ha, [e], life, self.iface_of_bid(e[0]), overwrite) for e in v6]
        # §8.1: an IPv4 CoA is registered alone, over IPv4/UDP
        batch += [PendingBU(self.ha, [e], life, self.iface_of_bid(e[0]), overwrite) for e in v4]
        if batch:
            batch[0].overwrite = first
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
        self.leaving.update((target.address, b) for b, _ in entries if b is not None)
        if bids is None:
            self.leaving.update(k for k in self.bul_rows if k[0] == target.address)
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
            bid,
            coa,
            overwrite=overwrite and self.dialect is Dialect.DRAFT05,
            home=home,
            dialect=self.dialect,
            bid_type=self.sim.bid_type,
        )

    def _send_bu(self, pending: PendingBU, *, seq: int | None = None) -> Transmission:
        peer = pending.peer
        if pending.lifetime:
            self.leaving.difference_update((peer.address, bid) for bid, _ in pending.entries)
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
        if legacy and pending.lifetime and any(b is not None for b, _ in pending.entries):
            # §5.7: no MCoA with this peer any more: a regular BU for the sending CoA
            pending.entries = [(None, pending.iface.address)]
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

    def _next_esp(self) -> tuple[int, int]:
        self.esp_seq += 1
        return (0x1001, self.esp_seq)

    def _retransmit(self, key: tuple[str, int]) -> None:
        pending = self.pending.pop(key, None)
        if pending is None:
            return
        pending.timeout = min(pending.timeout * 2, MAX_BINDACK_TIMEOUT)
        self._send_bu(pending)

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
            self.sim.after(self.sim.processing_delay(), lambda: self._on_brr(message))

    def _send_spaced(self, batch: list[PendingBU]) -> None:
        """Individual BUs 200 ms apart, so that the peer-wide sequence numbers (RFC §4.1) arrive in
        order over links of different latency."""
        for order, pending in enumerate(batch):
            if order == 0:
                self._send_bu(pending)
            else:
                self.sim.after(0.2 * order, partial(self._send_bu, pending))
