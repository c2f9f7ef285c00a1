"""The discrete-event core: clock, event queue, seeded randomness, captured frames.

Time inside the simulation is an integer number of nanoseconds since the scenario start; the
capture time of a frame is ``EPOCH_NS + now``. Events at the same instant run in the order they
were scheduled, so a run depends only on the scenario, the seed and the dialect.

Every packet a node sends is a ``Transmission``; each capture point it crosses adds a
``Sighting`` (one captured frame). The truth refers to transmissions and resolves their first
sighting to a capture time and a 1-based frame number once the run is over.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dissector.codepoints import Dialect

if TYPE_CHECKING:
    from mcoaviz.simulate.network import Network
    from mcoaviz.simulate.truth import Truth

EPOCH_NS = 1_700_000_000 * 1_000_000_000  # 2023-11-14 22:13:20 UTC: a fixed, plausible start
NS = 1_000_000_000


def seconds(value: float) -> int:
    """Seconds -> integer nanoseconds."""
    return round(value * NS)


@dataclass(eq=False, slots=True)
class Sighting:
    """One captured frame: a transmission seen at one capture point."""

    time_ns: int  # simulation time
    interface: int  # capture interface id
    data: bytes
    order: int  # tie-break for equal times: creation order
    number: int = 0  # 1-based frame number, set when the capture is written

    @property
    def time(self) -> float:
        return (EPOCH_NS + self.time_ns) / NS


@dataclass(eq=False, slots=True)
class Transmission:
    """A packet sent once by a node, possibly seen at several capture points."""

    kind: str  # "BU", "BA", "BRR", "HoTI", ..., "data", "nd"
    sender: str
    intent: Any = None  # for Mobility Header messages: the MobilitySpec that was meant
    sightings: list[Sighting] = field(default_factory=list)
    delivered: bool = False

    @property
    def first(self) -> Sighting | None:
        return min(self.sightings, key=lambda s: (s.time_ns, s.order), default=None)


class Simulation:
    """Clock + event queue + capture. Nodes and links register themselves here."""

    def __init__(
        self, seed: int = 1, dialect: Dialect = Dialect.RFC5648, *, esp: bool = False, bid_type: int = 35
    ) -> None:
        self.seed = seed
        self.dialect = dialect
        self.bid_type = bid_type  # option type of the BID (the draft says TBD: I-2)
        self.esp = esp  # protect MN-HA signalling with ESP-NULL
        self.rng = random.Random(seed)
        self.now = 0
        self._queue: list[tuple[int, int, Callable[[], object]]] = []
        self._counter = 0
        self._offsets: dict[int, int] = {}
        self.sightings: list[Sighting] = []
        self.transmissions: list[Transmission] = []
        self.nodes: dict[str, Any] = {}
        from mcoaviz.simulate.network import Network
        from mcoaviz.simulate.truth import Truth

        self.network: Network = Network(self)
        self.truth: Truth = Truth(self)

    def dialect_of(self, address: str | None) -> Dialect:
        """The dialect of the mobile node with this home or care-of address: a node may follow
        another text than the simulation's (interop, I-1); everything else follows ``dialect``.
        Home agents and CNs answer each mobile node in that node's dialect."""
        for node in self.nodes.values():
            own = getattr(node, "own_dialect", None)
            if own is not None and address is not None and node.owns(address):
                return own
        return self.dialect

    def node_dialects(self) -> dict[str, Dialect]:
        """Mobile node name -> its dialect, when any mobile node has one of its own (else empty)."""
        mns = {name: n for name, n in self.nodes.items() if getattr(n, "role", "") == "mobile-node"}
        if all(getattr(n, "own_dialect", None) is None for n in mns.values()):
            return {}
        return {name: n.own_dialect or self.dialect for name, n in sorted(mns.items())}

    # ----------------------------------------------------------------- events
    def at(self, when: float, action: Callable[[], object]) -> None:
        """Run ``action`` at about ``when`` seconds after the scenario start.

        Scripted instants get a small seeded offset (0.3-4.7 ms) so captures do not show
        suspiciously round times; every action scheduled for the same ``when`` gets the same
        offset, so they still run in the order they were scheduled.
        """
        base = seconds(when)
        offset = self._offsets.get(base)
        if offset is None:
            offset = self._offsets[base] = self.rng.randrange(300_000, 4_700_000)
        self.at_ns(base + offset, action)

    def after(self, delay: float, action: Callable[[], object]) -> None:
        self.at_ns(self.now + seconds(delay), action)

    def at_ns(self, when_ns: int, action: Callable[[], object]) -> None:
        self._counter += 1
        heapq.heappush(self._queue, (max(when_ns, self.now), self._counter, action))

    def run(self, until: float) -> None:
        end = seconds(until)
        while self._queue and self._queue[0][0] <= end:
            when, _, action = heapq.heappop(self._queue)
            self.now = when
            action()
        self.now = end

    def processing_delay(self) -> float:
        """Seconds a node takes to answer a message (seeded, 0.15-0.9 ms)."""
        return self.rng.uniform(0.00015, 0.0009)

    def jitter(self, mean_ms: float, spread_ms: float) -> int:
        """A one-way delay in ns: mean plus uniform seeded jitter, never below 20 µs."""
        value = mean_ms + self.rng.uniform(-spread_ms, spread_ms)
        return max(20_000, round(value * 1_000_000))

    # ----------------------------------------------------------------- capture
    def capture(self, interface: int, time_ns: int, data: bytes) -> Sighting:
        sighting = Sighting(time_ns, interface, data, len(self.sightings))
        self.sightings.append(sighting)
        return sighting

    def ordered_sightings(self) -> list[Sighting]:
        """Frames in capture order, numbered from 1."""
        frames = sorted(self.sightings, key=lambda s: (s.time_ns, s.order))
        for number, sighting in enumerate(frames, start=1):
            sighting.number = number
        return frames
