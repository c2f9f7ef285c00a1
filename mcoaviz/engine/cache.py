"""Binding caches of every home agent / correspondent node, and every mobile node's binding
update list, as rows over time.

A row is one interval of one binding (or BUL entry): it opens when the node accepts (or the MN
sends) and closes with a reason. Rows are the export's ``bindings`` and ``bul`` tables. Memory
grows with the number of rows (bindings), never with the number of packets.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from mcoaviz.engine.events import (
    BindingEnded,
    BindingExpired,
    BindingRefreshed,
    BindingStarted,
    BulEntryChanged,
    Event,
)
from mcoaviz.engine.keys import BindingKey, BulKey
from mcoaviz.engine.states import BindingState, Input, next_state


@dataclass(slots=True)
class BindingRow:
    """One interval of one binding at one node (mutable while open)."""

    node: str
    role: str
    hoa: str
    bid: int | None
    coa: str
    start: float
    start_frame: int | None
    lifetime: int
    expires: float | None
    home: bool
    confirmed: bool
    pre_existing: bool
    state: BindingState
    claimed_coa: str | None = None
    end: float | None = None
    end_frame: int | None = None
    end_reason: str | None = None

    @property
    def key(self) -> BindingKey:
        return BindingKey(self.node, self.hoa, self.bid)

    def valid_at(self, t: float) -> bool:
        return self.start <= t and (self.end is None or t < self.end)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node, "role": self.role, "hoa": self.hoa, "bid": self.bid,
            "coa": self.coa, "start": self.start, "end": self.end, "end_reason": self.end_reason,
            "home": self.home, "lifetime": self.lifetime, "confirmed": self.confirmed,
            "pre_existing": self.pre_existing, "start_frame": self.start_frame,
            "end_frame": self.end_frame, "claimed_coa": self.claimed_coa,
        }


class BindingCache:
    """All nodes' binding caches. Every state change goes through ``states.next_state``."""

    def __init__(self) -> None:
        self.rows: list[BindingRow] = []
        self.active: dict[BindingKey, BindingRow] = {}
        self._by_node_hoa: dict[tuple[str, str], set[BindingKey]] = {}
        self._expiry: list[tuple[float, int, BindingKey]] = []  # lazy heap; stale entries skipped
        self._tick = 0
        self.generation = 0  # bumps on every change (lets traffic cache its lookups)

    # ------------------------------------------------------------------ queries
    def get(self, key: BindingKey) -> BindingRow | None:
        return self.active.get(key)

    def keys_of(self, node: str, hoa: str) -> list[BindingKey]:
        keys = self._by_node_hoa.get((node, hoa), set())
        return sorted(keys, key=BindingKey.sort_key)

    def nodes(self) -> set[str]:
        return {key.node for key in self.active} | {row.node for row in self.rows}

    def at(self, t: float) -> list[BindingRow]:
        return [row for row in self.rows if row.valid_at(t)]

    # ------------------------------------------------------------------ changes
    def start(
        self, key: BindingKey, *, role: str, coa: str, time: float, frame: int | None,
        lifetime: int, expires: float | None, home: bool, confirmed: bool,
        pre_existing: bool = False, claimed_coa: str | None = None, start: float | None = None,
    ) -> list[Event]:
        """Open a row. ``start`` overrides the row's start time (pre-existing bindings)."""
        old = self.active.get(key)
        state = old.state if old else BindingState.ABSENT
        how = Input.ACCEPT_HOME if home else (Input.ACCEPT if confirmed else Input.INSTALL_UNCONFIRMED)
        new_state = next_state(state, how)
        row = BindingRow(
            node=key.node, role=role, hoa=key.hoa, bid=key.bid, coa=coa,
            start=time if start is None else start, start_frame=frame, lifetime=lifetime,
            expires=expires, home=home, confirmed=confirmed, pre_existing=pre_existing,
            state=new_state, claimed_coa=claimed_coa,
        )
        self.rows.append(row)
        self.active[key] = row
        self._by_node_hoa.setdefault((key.node, key.hoa), set()).add(key)
        self._schedule(key, expires)
        self.generation += 1
        return [BindingStarted(
            time=row.start, frame=frame, key=key, role=role, coa=coa, lifetime=lifetime,
            expires=expires, home=home, confirmed=confirmed, pre_existing=pre_existing,
            claimed_coa=claimed_coa,
        )]

    def refresh(
        self, key: BindingKey, *, time: float, frame: int | None, lifetime: int,
        expires: float | None, confirmed: bool,
    ) -> list[Event]:
        row = self.active[key]
        if row.home:
            how = Input.ACCEPT_HOME if confirmed else Input.INSTALL_UNCONFIRMED
        else:
            how = Input.ACCEPT if confirmed else Input.INSTALL_UNCONFIRMED
        row.state = next_state(row.state, how)
        row.lifetime = lifetime
        row.expires = expires
        row.confirmed = row.confirmed or confirmed
        self._schedule(key, expires)
        return [BindingRefreshed(
            time=time, frame=frame, key=key, coa=row.coa, lifetime=lifetime, expires=expires,
            confirmed=confirmed,
        )]

    def end(
        self, key: BindingKey, *, time: float, frame: int | None, kind: type[BindingEnded],
    ) -> list[Event]:
        row = self.active.pop(key)
        how = {
            "expired": Input.EXPIRE, "deregistered": Input.DEREGISTER,
            "overwritten": Input.OVERWRITE, "replaced": Input.OVERWRITE,
        }[kind.REASON]
        row.state = next_state(row.state, how)
        row.end, row.end_frame, row.end_reason = time, frame, kind.REASON
        keys = self._by_node_hoa.get((key.node, key.hoa))
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_node_hoa[(key.node, key.hoa)]
        self.generation += 1
        return [kind(time=time, frame=frame, key=key, coa=row.coa, start=row.start)]

    def next_expiry(self) -> float | None:
        while self._expiry:
            when, _, key = self._expiry[0]
            row = self.active.get(key)
            if row is not None and row.expires == when:
                return when
            heapq.heappop(self._expiry)
        return None

    def expire_until(self, t: float) -> list[Event]:
        """End every binding whose expiry lies strictly before ``t``."""
        events: list[Event] = []
        while (when := self.next_expiry()) is not None and when < t:
            _, _, key = heapq.heappop(self._expiry)
            events += self.end(key, time=when, frame=None, kind=BindingExpired)
        return events

    def _schedule(self, key: BindingKey, expires: float | None) -> None:
        if expires is not None:
            self._tick += 1
            heapq.heappush(self._expiry, (expires, self._tick, key))


# --------------------------------------------------------------------------- BUL


@dataclass(slots=True)
class BulRow:
    """One interval of one binding update list entry of a mobile node (mutable while open)."""

    hoa: str
    peer: str
    peer_role: str
    bid: int | None
    coa: str
    start: float
    start_frame: int | None
    last_seq: int
    lifetime: int
    expires: float | None
    acknowledged: bool = False
    status: int | None = None
    end: float | None = None
    end_frame: int | None = None
    end_reason: str | None = None
    home: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "hoa": self.hoa, "peer": self.peer, "peer_role": self.peer_role, "bid": self.bid,
            "coa": self.coa, "start": self.start, "end": self.end, "end_reason": self.end_reason,
            "acknowledged": self.acknowledged, "status": self.status, "last_seq": self.last_seq,
            "lifetime": self.lifetime, "home": self.home, "start_frame": self.start_frame,
            "end_frame": self.end_frame,
        }


@dataclass(slots=True)
class BulTable:
    """Every mobile node's binding update list."""

    rows: list[BulRow] = field(default_factory=list)
    active: dict[BulKey, BulRow] = field(default_factory=dict)
    _expiry: list[tuple[float, int, BulKey]] = field(default_factory=list)
    _tick: int = 0

    def keys_of(self, hoa: str, peer: str) -> list[BulKey]:
        return sorted((k for k in self.active if k.hoa == hoa and k.peer == peer), key=BulKey.sort_key)

    def open(
        self, key: BulKey, *, peer_role: str, coa: str, time: float, frame: int, seq: int,
        lifetime: int, home: bool,
    ) -> list[Event]:
        row = BulRow(
            hoa=key.hoa, peer=key.peer, peer_role=peer_role, bid=key.bid, coa=coa, start=time,
            start_frame=frame, last_seq=seq, lifetime=lifetime, expires=time + lifetime, home=home,
        )
        self.rows.append(row)
        self.active[key] = row
        self._schedule(key, row.expires)
        return [BulEntryChanged(time, frame, key, "sent", coa, seq, lifetime)]

    def touch(self, key: BulKey, *, time: float, frame: int, seq: int, lifetime: int) -> list[Event]:
        """The MN sent another BU for the same CoA."""
        row = self.active[key]
        row.last_seq, row.lifetime = seq, lifetime
        if not row.acknowledged or row.expires is None or row.expires < time + lifetime:
            row.expires = time + lifetime
            self._schedule(key, row.expires)
        return [BulEntryChanged(time, frame, key, "refreshed", row.coa, seq, lifetime)]

    def acknowledge(
        self, key: BulKey, *, time: float, frame: int | None, status: int | None, lifetime: int,
        accepted_at: float,
    ) -> list[Event]:
        row = self.active[key]
        row.acknowledged = True
        row.status = status
        row.lifetime = lifetime
        row.expires = accepted_at + lifetime
        self._schedule(key, row.expires)
        return [BulEntryChanged(time, frame, key, "acknowledged", row.coa, row.last_seq, lifetime, status)]

    def close(
        self, key: BulKey, *, time: float, frame: int | None, reason: str, status: int | None = None,
    ) -> list[Event]:
        row = self.active.pop(key)
        row.end, row.end_frame, row.end_reason = time, frame, reason
        if status is not None:
            row.status = status
        change = "rejected" if reason == "rejected" else "ended"
        return [BulEntryChanged(time, frame, key, change, row.coa, row.last_seq, row.lifetime,
                                row.status, reason)]

    def expire_until(self, t: float) -> list[Event]:
        events: list[Event] = []
        while self._expiry:
            when, _, key = self._expiry[0]
            row = self.active.get(key)
            if row is None or row.expires != when:
                heapq.heappop(self._expiry)
                continue
            if when >= t:
                break
            heapq.heappop(self._expiry)
            events += self.close(key, time=when, frame=None, reason="expired")
        return events

    def _schedule(self, key: BulKey, expires: float | None) -> None:
        if expires is not None:
            self._tick += 1
            heapq.heappush(self._expiry, (expires, self._tick, key))
