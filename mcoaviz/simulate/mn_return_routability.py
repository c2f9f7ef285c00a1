"""Return routability per CoA (draft §5.2): HoTI through the HA, CoTI/CoT with a BID option."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dissector.encode import binding_identifier
from dissector.records import (
    BindingIdentifier,
    CareOfTest,
    CareOfTestInit,
    HomeTest,
    HomeTestInit,
)
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.mn_state import PendingBU, RRState
from mcoaviz.simulate.node import Received
from mcoaviz.simulate.registrar import Registrar

if TYPE_CHECKING:
    from mcoaviz.simulate.mn_base import MobileNodeBase
else:
    MobileNodeBase = object  # the attributes come from MobileNode at run time


class ReturnRoutabilityMixin(MobileNodeBase):
    """RR of ``MobileNode``."""

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
            options = (binding_identifier(bid, dialect=self.dialect, bid_type=self.sim.bid_type),)
            coti = MobilitySpec(
                CareOfTestInit(self._cookie(b"care-of", iface.address or "")),
                iface.address or "",
                cn.address,
                options,
            )
            self.send_mh(coti, iface, cn.interfaces["eth0"])
        state.careof.clear()

    def _cookie(self, *parts: bytes | str) -> bytes:
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
        wanted = self._rr_wanted.get(cn_address)
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
