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
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Hashable, Iterator
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
    # the message's BID options, read once: the engine asks ~6 times per message, and a
    # property is a Python call each time (3.11 does not specialise property reads)
    bids: tuple[BindingIdentifier, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.role_value = self.role.value
        self.dialect_value = self.dialect.value
        self.bids = self.message.bids

    @property
    def bid_values(self) -> tuple[int, ...]:
        return tuple(b.bid for b in self.message.bids)

    def overlaps(self, other: PendingBU) -> bool:
        """Same peer and HoA, and a common BID (a regular BU overlaps everything)."""
        if (self.key.node, self.key.hoa) != (other.key.node, other.key.hoa):
            return False
        mine, theirs = set(self.bid_values), set(other.bid_values)
        return not mine or not theirs or bool(mine & theirs)


_FRAME_BITS = 40  # an answered entry packs (seq << 40 | frame): frames below 2**40 (1.1e12)
_FRAME_MASK = (1 << _FRAME_BITS) - 1


class AnsweredIndex:
    """Answered exchanges, ``ExchangeKey`` -> BU frame, as compact as the question allows.

    Any later BU or BA with the same key may ask (a retransmission, a late or duplicate BA,
    even long after), so nothing may be forgotten; but a dict entry with its key object and two
    ints cost ~125 bytes, one per BU for the whole capture (13 MiB at 10 M packets). Here each
    (node, HoA) pair holds one ``array('q')`` of ``seq << 40 | frame`` sorted by sequence number
    (8 bytes an exchange; a sequence number is 16 bits on the wire, so the value orders by it):
    a look-up is a bisect, an insert nearly always an append (numbers grow; a wrap inserts
    in C). Keys that do not fit (not a 16-bit number, a frame past 2**40) go to a plain dict.
    The same answers as ``dict[ExchangeKey, int]`` for ``get``, ``[]=``, ``in`` and ``len``."""

    __slots__ = ("_pairs", "_other", "_count")

    def __init__(self) -> None:
        self._pairs: dict[tuple[str, str], array[int]] = {}
        self._other: dict[ExchangeKey, int] = {}
        self._count = 0

    def get(self, key: ExchangeKey, default: int | None = None) -> int | None:
        seq = key.seq
        if type(seq) is not int or not 0 <= seq <= 0xFFFF:
            return self._other.get(key, default)
        packed = self._pairs.get((key.node, key.hoa))
        if packed is not None:
            i = bisect_left(packed, seq << _FRAME_BITS)
            if i < len(packed) and packed[i] >> _FRAME_BITS == seq:
                return packed[i] & _FRAME_MASK
        return self._other.get(key, default) if self._other else default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, ExchangeKey) and self.get(key) is not None

    def __setitem__(self, key: ExchangeKey, frame: int) -> None:
        seq = key.seq
        other = self._other
        if other and key in other:  # (once there, a key stays there)
            other[key] = frame
            return
        if type(seq) is not int or not 0 <= seq <= 0xFFFF or type(frame) is not int \
                or not 0 <= frame <= _FRAME_MASK:
            if not self._pop_packed(key):
                self._count += 1
            other[key] = frame
            return
        value = seq << _FRAME_BITS | frame
        pair = (key.node, key.hoa)
        packed = self._pairs.get(pair)
        if packed is None:
            self._pairs[pair] = array("q", (value,))
        elif packed[-1] >> _FRAME_BITS < seq:  # the usual case: numbers grow
            packed.append(value)
        else:
            i = bisect_left(packed, seq << _FRAME_BITS)
            if i < len(packed) and packed[i] >> _FRAME_BITS == seq:
                packed[i] = value  # a second answer for the key: the later BU frame wins (as a dict)
                return
            packed.insert(i, value)
        self._count += 1

    def _pop_packed(self, key: ExchangeKey) -> bool:
        """Remove ``key`` from its pair's array (it moves to the plain dict); True if it was there."""
        seq = key.seq
        packed = self._pairs.get((key.node, key.hoa))
        if packed is None or type(seq) is not int or not 0 <= seq <= 0xFFFF:
            return False
        i = bisect_left(packed, seq << _FRAME_BITS)
        if i < len(packed) and packed[i] >> _FRAME_BITS == seq:
            del packed[i]
            return True
        return False

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[ExchangeKey]:
        """The keys (pair by pair, by sequence number; then the odd ones): for tests and tools."""
        for (node, hoa), packed in self._pairs.items():
            for value in packed:
                yield ExchangeKey(node, hoa, value >> _FRAME_BITS)
        yield from self._other


class Pairing:
    """Pending BUs (A flag, no BA yet) and answered exchanges.

    Indexed so that every operation is O(1) amortised in the number of pending BUs: by key, by
    (node, HoA), and a heap by time for the timeout (stale heap entries are skipped).

    ``compact``: answered exchanges in an ``AnsweredIndex`` (a whole-file run); False: a dict,
    whose insertion order the live view's retention ages out (``mcoaviz.engine.retention``)."""

    def __init__(self, compact: bool = False) -> None:
        self.pending: dict[ExchangeKey, PendingBU] = {}
        # -> BU frame
        self.answered: dict[ExchangeKey, int] | AnsweredIndex = AnsweredIndex() if compact else {}
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
