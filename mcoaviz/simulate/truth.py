"""Ground truth: the simulator's own binding caches, BULs, traffic and injected violations.

Written next to a capture as ``NAME.truth.json`` in the export shapes of docs/architecture.md.
Interpretations taken (the engine compares against these):

* Times are capture times of the frame that first shows the event. Every node's signalling
  link is a capture point, so the first sighting of a BA is the instant the node sent it,
  which is also when the node changed its cache.
* ``bindings.start`` = first sighting of the accepting BA (all simulated BUs set A), even
  when that BA is then lost before reaching the MN (the HA changed its cache when it sent it).
  ``end`` = first sighting of the BA that ended the row (deregistered / replaced /
  overwritten), or last acceptance + granted lifetime (expired). A refresh with the same CoA
  extends the row. A new CoA under the same BID ends the row ``replaced``. A regular BU, or a
  BU with O (RFC header O / draft option O), ends *every* existing row of the HoA
  ``overwritten`` and opens new rows, even for a BID re-registered with the same CoA.
* Draft-05 BID CONFLICT (I-7): the HA installs the BID binding; the row has
  ``confirmed: false`` (the BA status is >= 128). RFC 165 (I-8): nothing changes.
* A draft-05 home binding (H with lifetime 0, §5.6.3) has ``lifetime: null`` and no expiry
  (I-13); an RFC home binding has the granted lifetime. Both have ``home: true``, CoA = HoA.
* ``bul``: one row per (MN, peer, BID, CoA) lifetime in the MN's binding update list.
  ``start`` = first sighting of the first BU for it; ``end`` = first sighting of the BA that
  ended it (or last acknowledgement + lifetime when it expired; or the rejecting BA for
  ``rejected``). The rows follow what went on the wire: a BU rewritten by ``mangle_next`` or
  hand-made with ``send_raw`` is in the BUL as sent (a hand-made BU claiming another HoA gives
  rows for that HoA). After a reboot (``mn.reboot()``) the forgotten rows end ``overwritten``
  at the BA of the O-flag BU that replaces them. After a BA without BID (a peer without
  MCoA, I-10) the MN sends regular BUs: the BID rows end ``overwritten`` at the first one.
  Expired rows have ``end_frame: null``.
* ``traffic``: ``interface`` is the pcapng interface id (as ``mcoaviz export``), with
  ``interface_name`` beside it. Every data packet (not Mobility Header, not ND) is counted at
  each capture interface it crosses. ``coa`` is the MN-side outer address as on the wire at
  that interface (the NAT's private address on the MN's side, the public one at the HA).
  ``bid`` is the BID of the node's (HA's or CN's) binding for that HoA and CoA at the instant
  of the sighting (behind a NAT, the binding of the public address the private one is mapped
  to), null when the node holds none then (a packet in flight across a de-registration).
  ``bytes`` are frame lengths. NEMO traffic to or from a mobile-network-prefix host is
  attributed to the mobile router's HoA. Plain legs (HA <-> CN without tunnel, home-link
  delivery) are not traffic rows.
* ``violations``: frame = 1-based number of the first sighting of the offending message.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcoaviz.simulate.model import Sighting, Transmission

if TYPE_CHECKING:
    from mcoaviz.simulate.model import Simulation
    from mcoaviz.simulate.network import TrafficMeta


def _first(tx: Transmission | None) -> Sighting | None:
    return tx.first if tx is not None else None


@dataclass(eq=False)
class BindingRow:
    node: str
    role: str
    hoa: str
    bid: int | None
    coa: str
    start_tx: Transmission
    lifetime: int | None
    home: bool = False
    confirmed: bool = True
    last_accept_tx: Transmission | None = None
    end_tx: Transmission | None = None
    end_reason: str | None = None
    expired: bool = False


@dataclass(eq=False)
class BulRow:
    hoa: str
    peer: str
    peer_role: str
    bid: int | None
    coa: str
    start_tx: Transmission
    last_seq: int
    lifetime: int
    acknowledged: bool = False
    status: int | None = None
    last_ack_tx: Transmission | None = None
    end_tx: Transmission | None = None
    end_reason: str | None = None
    expired: bool = False


@dataclass(eq=False)
class Violation:
    tx: Transmission
    section: str
    description: str
    rule: str | None = None


def _time(sighting: Sighting | None) -> float | None:
    return sighting.time if sighting is not None else None


def _frame(sighting: Sighting | None) -> int | None:
    return sighting.number if sighting is not None else None


def _outer_mn_address(frame: bytes, direction: str, via: str) -> str | None:
    """The MN-side address of a captured data frame (Ethernet, then IPv4 or IPv6)."""
    ip = frame[14:]
    if not ip:
        return None
    if ip[0] >> 4 == 4:
        raw = ip[12:16] if direction == "from-mn" else ip[16:20]
        return socket.inet_ntop(socket.AF_INET, raw)
    raw = ip[8:24] if direction == "from-mn" else ip[24:40]
    return socket.inet_ntop(socket.AF_INET6, raw)


@dataclass
class _TrafficCell:
    packets: int = 0
    bytes: int = 0
    first: float = 0.0
    last: float = 0.0


@dataclass
class Truth:
    sim: Simulation
    bindings: list[BindingRow] = field(default_factory=list)
    bul: list[BulRow] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    traffic: dict[tuple[Any, ...], _TrafficCell] = field(default_factory=dict)

    # ----------------------------------------------------------------- recording
    def violation(self, tx: Transmission, section: str, description: str, rule: str | None = None) -> None:
        self.violations.append(Violation(tx, section, description, rule))

    def count_traffic(
        self, sighting: Sighting, interface: str, meta: TrafficMeta, public: dict[str, str] | None = None
    ) -> None:
        """Count one sighting of a data packet; ``public`` maps a NAT's private address to its
        public one (the address the node's binding holds)."""
        coa = _outer_mn_address(sighting.data, meta.direction, meta.via)
        bid = self._bid_in_force(meta, (public or {}).get(coa or "", coa))
        key = (sighting.interface, interface, meta.node, meta.hoa, coa, bid, meta.direction, meta.via)
        cell = self.traffic.setdefault(key, _TrafficCell(first=sighting.time))
        cell.packets += 1
        cell.bytes += len(sighting.data)
        cell.first = min(cell.first, sighting.time)
        cell.last = max(cell.last, sighting.time)

    def _bid_in_force(self, meta: TrafficMeta, coa: str | None) -> int | None:
        """BID of the node's binding for (HoA, CoA) at this instant; None when it has none."""
        for node in self.sim.nodes.values():
            if getattr(node, "address", None) == meta.node and hasattr(node, "cache"):
                for binding in node.cache.of(meta.hoa).values():
                    if binding.coa == coa:
                        return binding.bid
        return None

    # ----------------------------------------------------------------- export
    def _binding_end(self, row: BindingRow | BulRow) -> tuple[float | None, int | None]:
        if row.expired:
            accept = _first(row.last_ack_tx if isinstance(row, BulRow) else row.last_accept_tx)
            accept = accept or _first(row.start_tx)
            if accept is None or row.lifetime is None:
                return None, None
            return round(accept.time + row.lifetime, 9), None
        sighting = _first(row.end_tx)
        return _time(sighting), _frame(sighting)

    def to_json(self, scenario: str, description: str = "") -> dict[str, Any]:
        frames = self.sim.ordered_sightings()
        bindings = []
        for row in self.bindings:
            start = _first(row.start_tx)
            end, end_frame = self._binding_end(row)
            bindings.append(
                {
                    "node": row.node,
                    "role": row.role,
                    "hoa": row.hoa,
                    "bid": row.bid,
                    "coa": row.coa,
                    "start": _time(start),
                    "end": end,
                    "end_reason": row.end_reason,
                    "home": row.home,
                    "lifetime": row.lifetime,
                    "confirmed": row.confirmed,
                    "pre_existing": False,
                    "start_frame": _frame(start),
                    "end_frame": end_frame,
                }
            )
        bul = []
        for bul_row in self.bul:
            start = _first(bul_row.start_tx)
            end, _ = self._binding_end(bul_row)
            bul.append(
                {
                    "hoa": bul_row.hoa,
                    "peer": bul_row.peer,
                    "peer_role": bul_row.peer_role,
                    "bid": bul_row.bid,
                    "coa": bul_row.coa,
                    "start": _time(start),
                    "end": end,
                    "end_reason": bul_row.end_reason,
                    "acknowledged": bul_row.acknowledged,
                    "status": bul_row.status,
                    "last_seq": bul_row.last_seq,
                    "lifetime": bul_row.lifetime,
                }
            )
        traffic = [
            {
                "interface": key[0],
                "interface_name": key[1],
                "node": key[2],
                "hoa": key[3],
                "coa": key[4],
                "bid": key[5],
                "direction": key[6],
                "via": key[7],
                "packets": cell.packets,
                "bytes": cell.bytes,
                "first": cell.first,
                "last": cell.last,
            }
            for key, cell in sorted(self.traffic.items(), key=lambda kv: (kv[1].first, str(kv[0])))
        ]
        violations = []
        for item in self.violations:
            entry: dict[str, Any] = {
                "frame": _frame(item.tx.first),
                "section": item.section,
                "description": item.description,
            }
            if item.rule:
                entry["rule"] = item.rule
            violations.append(entry)
        links = self.sim.network.capture_links()
        return {
            "scenario": scenario,
            "description": description,
            "seed": self.sim.seed,
            "dialect": self.sim.dialect.value,
            "capture": {
                "frames": len(frames),
                "interfaces": [{"id": link.interface_id, "name": link.name, "linktype": 1} for link in links],
                "first_time": frames[0].time if frames else None,
                "last_time": frames[-1].time if frames else None,
            },
            "bindings": sorted(bindings, key=lambda b: (b["start"] or 0, b["node"], b["bid"] or 0)),
            "bul": sorted(bul, key=lambda b: (b["start"] or 0, b["peer"], b["bid"] or 0)),
            "traffic": traffic,
            "violations": violations,
        } | self._dialects()

    def _dialects(self) -> dict[str, Any]:
        """Mobile nodes of different dialects in one capture (I-1): each node's home address and
        dialect, and "mixed" as the capture's dialect. Nothing is added otherwise."""
        own = self.sim.node_dialects()
        if len(set(own.values())) < 2:
            return {}
        return {"dialect": "mixed", "dialects": [
            {"node": name, "hoa": self.sim.nodes[name].hoa, "dialect": dialect.value}
            for name, dialect in own.items()]}


def dump(truth: dict[str, Any]) -> str:
    return json.dumps(truth, indent=1, sort_keys=False) + "\n"
