"""A binding cache (HA or CN) whose every change is written to the truth.

Keys are (HoA, BID); a regular (non-MCoA) binding has BID None (draft §6.1, RFC §6.1).
``install`` refreshes a row when the CoA is unchanged and replaces it otherwise; ``expire``
timers fire at acceptance + granted lifetime. The acceptance instant is the instant the node
sends its BA, which is also the BA's first sighting (the node's link is always captured).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mcoaviz.simulate.model import NS, Transmission
from mcoaviz.simulate.truth import BindingRow

if TYPE_CHECKING:
    from mcoaviz.simulate.model import Simulation


@dataclass(eq=False)
class Binding:
    hoa: str
    bid: int | None
    coa: str
    lifetime: int | None  # seconds; None = no expiry (draft home binding)
    home: bool
    row: BindingRow
    expires_ns: int | None = None
    udp_port: int | None = None  # DSMIPv6: where to send UDP-encapsulated packets
    prefixes: tuple[str, ...] = ()  # NEMO mobile network prefixes
    confirmed: bool = True


@dataclass(eq=False)
class BindingCache:
    sim: Simulation
    node_address: str
    role: str  # "home-agent" | "correspondent"
    entries: dict[str, dict[int | None, Binding]] = field(default_factory=dict)

    def of(self, hoa: str) -> dict[int | None, Binding]:
        return self.entries.get(hoa, {})

    def install(
        self,
        hoa: str,
        bid: int | None,
        coa: str,
        lifetime: int | None,
        tx: Transmission,
        *,
        home: bool = False,
        confirmed: bool = True,
        udp_port: int | None = None,
        prefixes: tuple[str, ...] = (),
    ) -> Binding:
        table = self.entries.setdefault(hoa, {})
        current = table.get(bid)
        if current is not None and current.coa == coa and current.home == home:
            current.lifetime = lifetime
            current.row.lifetime = lifetime
            current.row.last_accept_tx = tx
            current.row.confirmed = current.row.confirmed and confirmed
            current.udp_port = udp_port
            current.prefixes = prefixes or current.prefixes
            binding = current
        else:
            if current is not None:
                self._close(current, "replaced", tx)
            row = BindingRow(
                self.node_address,
                self.role,
                hoa,
                bid,
                coa,
                tx,
                lifetime,
                home=home,
                confirmed=confirmed,
                last_accept_tx=tx,
            )
            self.sim.truth.bindings.append(row)
            binding = Binding(
                hoa, bid, coa, lifetime, home, row, udp_port=udp_port, prefixes=prefixes, confirmed=confirmed
            )
            table[bid] = binding
        binding.expires_ns = None if lifetime is None else self.sim.now + lifetime * NS
        if binding.expires_ns is not None:
            deadline = binding.expires_ns
            self.sim.at_ns(deadline, lambda: self._expire(binding, deadline))
        return binding

    def remove(self, hoa: str, bid: int | None, reason: str, tx: Transmission) -> bool:
        binding = self.entries.get(hoa, {}).get(bid)
        if binding is None:
            return False
        self._close(binding, reason, tx)
        del self.entries[hoa][bid]
        return True

    def remove_all(self, hoa: str, reason: str, tx: Transmission) -> None:
        for bid in list(self.entries.get(hoa, {})):
            self.remove(hoa, bid, reason, tx)

    def _close(self, binding: Binding, reason: str, tx: Transmission) -> None:
        binding.row.end_tx = tx
        binding.row.end_reason = reason

    def _expire(self, binding: Binding, deadline: int) -> None:
        table = self.entries.get(binding.hoa, {})
        if table.get(binding.bid) is binding and binding.expires_ns == deadline:
            binding.row.expired = True
            binding.row.end_reason = "expired"
            del table[binding.bid]
