"""Every mobile node's binding update list (RFC 6275 §11.1), as rows over time.

A row is one (MN HoA, peer, BID, CoA) lifetime. It starts with the first BU sent for that CoA
(first sighting) and is *pending* until a BA accepts it; only then does it become the entry in
force and end the previous row of the same BID (``replaced``, at the BA's time). A rejecting BA
ends the pending row (``rejected``); a row never answered stays open and unacknowledged (the
engine does not invent the answer). De-registration and overwrite end rows at the BA's time;
an acknowledged row expires at its last acknowledgement + granted lifetime.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from mcoaviz.engine.cache import STALE_SLACK, live_entries
from mcoaviz.engine.events import BulEntryChanged, Event
from mcoaviz.engine.keys import BulKey
from mcoaviz.engine.retired import RetiredRows


@dataclass(slots=True)
class BulRow:
    hoa: str
    peer: str
    peer_role: str
    bid: int | None
    coa: str
    start: float
    start_frame: int | None
    last_seq: int
    lifetime: int
    home: bool = False
    acknowledged: bool = False
    status: int | None = None
    expires: float | None = None
    end: float | None = None
    end_frame: int | None = None
    end_reason: str | None = None
    order: int = 0  # creation number (sorts retired rows back among the others)

    @property
    def key(self) -> BulKey:
        return BulKey(self.hoa, self.peer, self.bid)

    def to_dict(self) -> dict[str, Any]:
        return {
            "hoa": self.hoa, "peer": self.peer, "peer_role": self.peer_role, "bid": self.bid,
            "coa": self.coa, "start": self.start, "end": self.end, "end_reason": self.end_reason,
            "acknowledged": self.acknowledged, "status": self.status, "last_seq": self.last_seq,
            "lifetime": self.lifetime, "home": self.home, "start_frame": self.start_frame,
            "end_frame": self.end_frame,
        }


class BulTable:
    def __init__(self) -> None:
        self.rows: list[BulRow] = []
        self.current: dict[BulKey, BulRow] = {}  # the entry in force per key
        self.pending: dict[tuple[BulKey, str], BulRow] = {}  # sent for a new CoA, not yet accepted
        self._expiry: list[tuple[float, int, BulKey]] = []
        self._tick = 0
        self.orphans: dict[tuple[str, str], list[BulRow]] = {}  # a rebooted MN forgot these; an
        # accepted O BU ends them
        self.last_seq: dict[tuple[str, str], int] = {}  # (hoa, peer) -> last BU sequence number
        # (hoa, peer) -> keys in ``current`` / pending keys: the per-MN scans are O(its entries)
        self._current_of: dict[tuple[str, str], set[BulKey]] = {}
        self._pending_of: dict[tuple[str, str], set[tuple[BulKey, str]]] = {}
        # (hoa, bid) -> keys in ``current``, in ``current``'s order (``first_coa`` without a scan)
        self._by_hoa_bid: dict[tuple[str, int | None], dict[BulKey, None]] = {}
        self.retired: RetiredRows | None = None  # ended rows out of memory (whole-file runs)
        self._made = 0

    def retire_to(self, retired: RetiredRows) -> None:
        self.retired = retired

    def retire_ended(self) -> None:
        """Move every ended row to ``retired``: nothing here reads a row once it ended (an
        orphan is ended when it leaves ``orphans``; a rejected row has left ``pending``)."""
        retired = self.retired
        if retired is None:
            return
        keep: list[BulRow] = []
        for row in self.rows:
            if row.end is None:
                keep.append(row)
            else:
                retired.add(row)
        self.rows = keep

    def keys_of(self, hoa: str, peer: str) -> list[BulKey]:
        return sorted(self._current_of.get((hoa, peer), ()), key=BulKey.sort_key)

    def _set_current(self, key: BulKey, row: BulRow) -> None:
        self.current[key] = row
        self._current_of.setdefault((key.hoa, key.peer), set()).add(key)
        self._by_hoa_bid.setdefault((key.hoa, key.bid), {})[key] = None

    def _drop_current(self, key: BulKey) -> BulRow:
        row = self.current.pop(key)
        keys = self._current_of[(key.hoa, key.peer)]
        keys.discard(key)
        if not keys:
            del self._current_of[(key.hoa, key.peer)]
        same = self._by_hoa_bid[(key.hoa, key.bid)]
        del same[key]
        if not same:
            del self._by_hoa_bid[(key.hoa, key.bid)]
        return row

    def _add_pending(self, key: BulKey, coa: str, row: BulRow) -> None:
        self.pending[(key, coa)] = row
        self._pending_of.setdefault((key.hoa, key.peer), set()).add((key, coa))

    def _take_pending(self, key: BulKey, coa: str | None) -> BulRow | None:
        if coa is None:
            return None
        row = self.pending.pop((key, coa), None)
        if row is not None:
            waiting = self._pending_of[(key.hoa, key.peer)]
            waiting.discard((key, coa))
            if not waiting:
                del self._pending_of[(key.hoa, key.peer)]
        return row

    def coa_of(self, key: BulKey) -> str | None:
        row = self.current.get(key)
        return row.coa if row is not None else None

    def first_coa(self, hoa: str, bid: int) -> str | None:
        """The CoA of the oldest entry in force for (HoA, BID) towards any peer (the first in
        ``current``'s order), found in an index instead of a scan of every MN's entries."""
        keys = self._by_hoa_bid.get((hoa, bid))
        return self.current[next(iter(keys))].coa if keys else None

    # ------------------------------------------------------------------ the MN sends
    def sent(self, key: BulKey, coa: str | None, *, peer_role: str, time: float, frame: int, seq: int,
             lifetime: int, home: bool) -> list[Event]:
        row = self.current.get(key)
        if row is not None and (coa is None or row.coa == coa):
            row.last_seq = seq
            return [BulEntryChanged(time, frame, key, "refreshed", row.coa, seq, lifetime)]
        if coa is None:
            return []
        waiting = self.pending.get((key, coa))
        if waiting is not None:
            waiting.last_seq = seq
            return [BulEntryChanged(time, frame, key, "refreshed", coa, seq, lifetime)]
        fresh = BulRow(hoa=key.hoa, peer=key.peer, peer_role=peer_role, bid=key.bid, coa=coa, start=time,
                       start_frame=frame, last_seq=seq, lifetime=lifetime, home=home, order=self._made)
        self._made += 1
        self.rows.append(fresh)
        self._add_pending(key, coa, fresh)
        return [BulEntryChanged(time, frame, key, "sent", coa, seq, lifetime)]

    def forget(self, hoa: str, peer: str) -> None:
        """The MN lost its state (a bootstrap, draft §5.10): its rows for ``peer`` are orphans."""
        for key in self.keys_of(hoa, peer):
            self.orphans.setdefault((hoa, peer), []).append(self._drop_current(key))
        for pending_key in self._pending_of.pop((hoa, peer), set()):
            del self.pending[pending_key]

    def end_orphans(self, hoa: str, peer: str, *, time: float, frame: int | None) -> list[Event]:
        events: list[Event] = []
        for row in self.orphans.pop((hoa, peer), []):
            events += self._close(row, time, frame, "overwritten")
        return events

    # ------------------------------------------------------------------ the peer answers
    def accept(self, key: BulKey, coa: str | None, *, time: float, frame: int | None, status: int | None,
               lifetime: int, seq: int) -> list[Event]:
        events: list[Event] = []
        fresh = self._take_pending(key, coa)
        row = self.current.get(key)
        if fresh is not None:
            if row is not None:
                events += self._close(row, time, frame, "replaced")
            self._set_current(key, fresh)
            row = fresh
        if row is None:
            return events
        row.acknowledged, row.status, row.lifetime, row.last_seq = True, status, lifetime, seq
        row.expires = time + lifetime
        self._tick += 1
        heapq.heappush(self._expiry, (row.expires, self._tick, key))
        if len(self._expiry) > 2 * len(self.current) + STALE_SLACK:
            self._expiry = live_entries(self._expiry, self.current)
        events.append(BulEntryChanged(time, frame, key, "acknowledged", row.coa, seq, lifetime, status))
        return events

    def reject(self, key: BulKey, coa: str | None, *, time: float, frame: int | None,
               status: int) -> list[Event]:
        fresh = self._take_pending(key, coa)
        if fresh is None:
            return []
        fresh.acknowledged, fresh.status = True, status
        fresh.end, fresh.end_frame, fresh.end_reason = time, frame, "rejected"
        return [BulEntryChanged(time, frame, key, "rejected", coa, fresh.last_seq, fresh.lifetime, status,
                                "rejected")]

    def end(self, hoa: str, peer: str, bids: list[int | None] | None, reason: str, *, time: float,
            frame: int | None) -> list[Event]:
        """End the rows in force for ``bids`` of (hoa, peer); None = every row."""
        events: list[Event] = []
        for key in self.keys_of(hoa, peer):
            if bids is None or key.bid in bids:
                events += self._close(self.current[key], time, frame, reason)
        return events

    def _close(self, row: BulRow, time: float, frame: int | None, reason: str) -> list[Event]:
        key = row.key
        if self.current.get(key) is row:
            self._drop_current(key)
        row.end, row.end_frame, row.end_reason = time, frame, reason
        return [BulEntryChanged(time, frame, key, "ended", row.coa, row.last_seq, row.lifetime, row.status,
                                reason)]

    def due_before(self, t: float) -> bool:
        """An expiry may lie before ``t`` (stale heap entries make this conservative)."""
        return bool(self._expiry) and self._expiry[0][0] < t

    def expire_until(self, t: float) -> list[Event]:
        events: list[Event] = []
        while self._expiry:
            when, _, key = self._expiry[0]
            row = self.current.get(key)
            if row is None or row.expires != when:
                heapq.heappop(self._expiry)
                continue
            if when >= t:
                break
            heapq.heappop(self._expiry)
            events += self._close(row, when, None, "expired")
        return events
