"""BU <-> BA pairing, retransmissions, and one-message-many-sightings.

* A BA answers the BU with the same (peer, home address, sequence number) (6275 §6.1.8).
* A BU resent with the same key is a retransmission: it is not a new registration.
* The same message captured at several interfaces (e.g. the MN's radio and the HA's uplink) is
  one message: the first sighting wins. A second sighting counts as the same message when it
  comes from another interface within ``window`` seconds and has the same fingerprint (type,
  addresses, sequence, checksum); on the same interface it is a new transmission.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field

from dissector.codepoints import Dialect
from dissector.records import BindingIdentifier, BindingUpdate, MobilityMessage
from mcoaviz.engine.keys import ExchangeKey, Role


class Sightings:
    """Recognises the same message seen again at another capture interface."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: dict[Hashable, tuple[float, int, set[int]]] = {}
        self._order: deque[tuple[float, Hashable]] = deque()

    def first_frame(self, fingerprint: Hashable, time: float, frame: int, interface: int) -> int | None:
        """The frame of the first sighting when this is a repeat sighting, else None."""
        self._prune(time)
        seen = self._seen.get(fingerprint)
        if seen is not None:
            first_time, first_frame, interfaces = seen
            if interface not in interfaces and time - first_time <= self.window:
                interfaces.add(interface)
                return first_frame
        self._seen[fingerprint] = (time, frame, {interface})
        self._order.append((time, fingerprint))
        return None

    def _prune(self, now: float) -> None:
        while self._order and now - self._order[0][0] > self.window:
            when, fingerprint = self._order.popleft()
            seen = self._seen.get(fingerprint)
            if seen is not None and seen[0] == when:
                del self._seen[fingerprint]


@dataclass(slots=True)
class PendingBU:
    """A BU the engine has seen (first sighting), with what processing it needs later."""

    key: ExchangeKey
    time: float
    frame: int
    bu: BindingUpdate
    message: MobilityMessage
    role: Role
    dialect: Dialect
    source_coa: str  # Alt-CoA, else outer IPv4 source (DSMIPv6), else IPv6 source
    outer_ipv4: str | None  # outer IPv4 source of a DSMIPv6 BU (I-22)
    attempts: int = 1
    entries: tuple[tuple[int | None, str | None], ...] = ()  # (BID, CoA) as the MN's BUL sees them
    overwrite: bool | None = None  # ``registration.overwrite_flag``, decided once (None: not yet)
    # ``role.value`` and ``dialect.value`` as plain strings, read once: events carry them and an
    # enum's ``.value`` is a property call (several per message)
    role_value: str = field(init=False, repr=False, compare=False)
    dialect_value: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.role_value = self.role.value
        self.dialect_value = self.dialect.value

    @property
    def bids(self) -> tuple[BindingIdentifier, ...]:
        return self.message.bids

    @property
    def bid_values(self) -> tuple[int, ...]:
        return tuple(b.bid for b in self.message.bids)

    def overlaps(self, other: PendingBU) -> bool:
        """Same peer and HoA, and a common BID (a regular BU overlaps everything)."""
        if (self.key.node, self.key.hoa) != (other.key.node, other.key.hoa):
            return False
        mine, theirs = set(self.bid_values), set(other.bid_values)
        return not mine or not theirs or bool(mine & theirs)


class Pairing:
    """Pending BUs (A flag, no BA yet) and answered exchanges.

    Indexed so that every operation is O(1) amortised in the number of pending BUs: by key, by
    (node, HoA), and a heap by time for the timeout (stale heap entries are skipped)."""

    def __init__(self) -> None:
        self.pending: dict[ExchangeKey, PendingBU] = {}
        self.answered: dict[ExchangeKey, int] = {}  # -> BU frame
        self._by_pair: dict[tuple[str, str], dict[ExchangeKey, PendingBU]] = {}
        self._by_time: list[tuple[float, int, PendingBU]] = []
        self._tick = 0

    def known(self, key: ExchangeKey) -> PendingBU | int | None:
        return self.pending.get(key) or self.answered.get(key)

    def add(self, bu: PendingBU) -> None:
        old = self.pending.get(bu.key)
        if old is not None:
            self._drop(old)
        self.pending[bu.key] = bu
        self._by_pair.setdefault((bu.key.node, bu.key.hoa), {})[bu.key] = bu
        self._tick += 1
        heapq.heappush(self._by_time, (bu.time, self._tick, bu))

    def _drop(self, bu: PendingBU) -> None:
        """Forget ``bu`` (its heap entry goes stale and is skipped later)."""
        del self.pending[bu.key]
        pair = (bu.key.node, bu.key.hoa)
        mine = self._by_pair[pair]
        del mine[bu.key]
        if not mine:
            del self._by_pair[pair]

    def take(self, key: ExchangeKey) -> PendingBU | None:
        bu = self.pending.get(key)
        if bu is not None:
            self._drop(bu)
            self.answered[key] = bu.frame
        return bu

    def superseded_by(self, new: PendingBU) -> list[PendingBU]:
        """Pending BUs the MN gave up on: it sent a newer BU for an overlapping BID set."""
        mine = self._by_pair.get((new.key.node, new.key.hoa))
        if not mine:
            return []
        gone = [bu for bu in mine.values() if bu.key != new.key and bu.overlaps(new)]
        for bu in gone:
            self._drop(bu)
        return gone

    def latest_for(self, node: str, hoa: str) -> PendingBU | None:
        """The newest pending BU of (node, hoa): a BA with status 135 carries the node's last
        accepted sequence number instead of the BU's (6275 §9.5.1), so it pairs with this one."""
        mine = self._by_pair.get((node, hoa))
        if not mine:
            return None
        newest = max(mine.values(), key=lambda bu: bu.time)
        return self.take(newest.key)

    def next_time(self) -> float | None:
        """The oldest pending BU's time, or earlier (a stale heap entry); None when none."""
        return self._by_time[0][0] if self._by_time else None

    def overdue(self, now: float, timeout: float) -> list[PendingBU]:
        """Pending BUs older than ``timeout`` at ``now``, oldest first (ties: order added)."""
        heap, gone = self._by_time, []
        while heap and now - heap[0][0] > timeout:
            _, _, bu = heapq.heappop(heap)
            if self.pending.get(bu.key) is bu:
                self._drop(bu)
                gone.append(bu)
        return gone

    def drain(self) -> list[PendingBU]:
        gone = sorted(self.pending.values(), key=lambda bu: bu.time)
        self.pending.clear()
        self._by_pair.clear()
        self._by_time.clear()
        return gone
