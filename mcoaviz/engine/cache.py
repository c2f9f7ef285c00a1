"""Binding caches of every home agent / correspondent node, as rows over time.

A row is one interval of one binding: it opens when the node accepts and closes with a reason.
Rows are the export's ``bindings`` table. Memory grows with the number of rows (bindings), never
with the number of packets. The mobile nodes' side is in ``bul.py``.
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcoaviz.engine.events import (
    BindingEnded,
    BindingExpired,
    BindingRefreshed,
    BindingStarted,
    Event,
)
from mcoaviz.engine.keys import BindingKey
from mcoaviz.engine.retired import RetiredRows
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
    lifetime: int | None  # None: no expiry (draft home binding, I-13)
    expires: float | None
    home: bool
    confirmed: bool
    pre_existing: bool
    state: BindingState
    claimed_coa: str | None = None
    end: float | None = None
    end_frame: int | None = None
    end_reason: str | None = None
    order: int = 0  # creation number (sorts retired rows back among the others)

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
        self._sorted: dict[tuple[str, str], list[BindingKey]] = {}  # keys_of, until the pair changes
        self._rows_of: dict[tuple[str, str], list[BindingRow]] = {}  # every row of (node, HoA)
        # every key / (node, CoA) that has had a row ("seen before?" in O(1)), kept for the whole
        # run (a BU much later may ask). The keys are the engine's own key objects (shared with
        # the rows while they live); the CoAs nested by node (a handful of nodes, many CoAs: no
        # 2-tuple per CoA) and interned (the text shared with the tables that outlive a binding)
        self.registered_keys: set[BindingKey] = set()
        self.registered_coas: dict[str, set[str]] = {}  # node -> CoAs
        self._expiry: list[tuple[float, int, BindingKey]] = []  # lazy heap; stale entries skipped
        self._tick = 0
        self.generation = 0  # bumps on every change (lets traffic cache its lookups)
        self.retired: RetiredRows | None = None  # ended rows out of memory (whole-file runs)
        self._made = 0

    # ------------------------------------------------------------------ queries
    def get(self, key: BindingKey) -> BindingRow | None:
        return self.active.get(key)

    def keys_of(self, node: str, hoa: str) -> list[BindingKey]:
        """The keys held for (node, HoA), sorted (a shared list: do not modify it). The same list
        object is returned until one of the pair's rows starts, ends or changes its claimed CoA:
        traffic attribution (``BindingEngine.feed_traffic``) keeps its lookups while it is."""
        pair = (node, hoa)
        keys = self._sorted.get(pair)
        if keys is None:
            keys = self._sorted[pair] = sorted(self._by_node_hoa.get(pair, ()), key=BindingKey.sort_key)
        return keys

    def nodes(self) -> set[str]:
        retired = {row["node"] for row in self.retired.rows()} if self.retired is not None else set()
        return {key.node for key in self.active} | {row.node for row in self.rows} | retired

    def rows_of(self, node: str, hoa: str) -> list[BindingRow]:
        """Every row (open or closed) of one node for one home address, in creation order."""
        return self._rows_of.get((node, hoa), [])

    def ever_registered(self, key: BindingKey, coa: str) -> bool:
        """This key, or this CoA at this node, has had a row (open or closed)."""
        if key in self.registered_keys:
            return True
        coas = self.registered_coas.get(key.node)
        return coas is not None and coa in coas

    def at(self, t: float) -> list[BindingRow]:
        """The rows in memory valid at ``t`` (``BindingEngine.state_at`` reads retired ones too)."""
        return [row for row in self.rows if row.valid_at(t)]

    # ------------------------------------------------------------------ retiring
    def retire_to(self, retired: RetiredRows) -> None:
        self.retired = retired

    def retire_ended_before(self, cut: float) -> None:
        """Move the rows that ended before ``cut`` to ``retired`` (``rows_of`` no longer has them)."""
        retired = self.retired
        if retired is None:
            return
        keep: list[BindingRow] = []
        for row in self.rows:
            if row.end is not None and row.end < cut:
                retired.add(row)
            else:
                keep.append(row)
        if len(keep) == len(self.rows):
            return
        self.rows = keep
        for pair, rows in list(self._rows_of.items()):
            kept = [r for r in rows if r.end is None or r.end >= cut]
            if not kept:
                del self._rows_of[pair]
            elif len(kept) != len(rows):
                self._rows_of[pair] = kept

    # ------------------------------------------------------------------ changes
    def start(
        self, key: BindingKey, *, role: str, coa: str, time: float, frame: int,
        lifetime: int | None, expires: float | None, home: bool, confirmed: bool,
        pre_existing: bool = False, claimed_coa: str | None = None, start: float | None = None,
        why: str = "", first_registration: str = "",
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
            state=new_state, claimed_coa=claimed_coa, order=self._made,
        )
        self._made += 1
        self.rows.append(row)
        self._rows_of.setdefault((key.node, key.hoa), []).append(row)
        self.active[key] = row
        self.registered_keys.add(key)
        coas = self.registered_coas.get(key.node)
        if coas is None:
            coas = self.registered_coas[sys.intern(key.node)] = set()
        coas.add(sys.intern(coa))
        self._by_node_hoa.setdefault((key.node, key.hoa), set()).add(key)
        self._sorted.pop((key.node, key.hoa), None)
        self._schedule(key, expires)
        self.generation += 1
        return [BindingStarted(
            time=row.start, frame=frame, key=key, role=role, coa=coa, lifetime=lifetime,
            expires=expires, home=home, confirmed=confirmed, pre_existing=pre_existing,
            claimed_coa=claimed_coa, why=why, first_registration=first_registration,
        )]

    def refresh(
        self, key: BindingKey, *, time: float, frame: int, lifetime: int | None,
        expires: float | None, confirmed: bool, claimed_coa: str | None = None, why: str = "",
    ) -> list[Event]:
        row = self.active[key]
        if claimed_coa is not None:  # behind the same NAT address the MN's own address changed
            row.claimed_coa = claimed_coa
            self._sorted.pop((key.node, key.hoa), None)  # a new keys_of list: the pair changed
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
            confirmed=confirmed, why=why,
        )]

    def end(
        self, key: BindingKey, *, time: float, frame: int | None, kind: type[BindingEnded],
        why: str = "",
    ) -> list[Event]:
        row = self.active.pop(key)
        how = {
            "expired": Input.EXPIRE, "deregistered": Input.DEREGISTER,
            "overwritten": Input.OVERWRITE, "replaced": Input.OVERWRITE,
        }[kind.REASON]
        row.state = next_state(row.state, how)
        row.end, row.end_frame, row.end_reason = time, frame, kind.REASON
        keys = self._by_node_hoa.get((key.node, key.hoa))
        self._sorted.pop((key.node, key.hoa), None)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_node_hoa[(key.node, key.hoa)]
        self.generation += 1
        return [kind(time=time, frame=frame, key=key, coa=row.coa, start=row.start, why=why)]

    def due_before(self, t: float) -> bool:
        """An expiry may lie before ``t`` (stale heap entries make this conservative)."""
        return bool(self._expiry) and self._expiry[0][0] < t

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
            events += self.end(key, time=when, frame=None, kind=BindingExpired,
                               why="no refresh within the granted lifetime: last acceptance + lifetime "
                                   "(6275 §9.5.2 / RFC §6.2; BA lifetime, else BU lifetime: I-29)")
        return events

    def _schedule(self, key: BindingKey, expires: float | None) -> None:
        if expires is not None:
            self._tick += 1
            heapq.heappush(self._expiry, (expires, self._tick, key))
            if len(self._expiry) > 2 * len(self.active) + STALE_SLACK:
                self._expiry = live_entries(self._expiry, self.active)


STALE_SLACK = 1024  # stale expiry entries tolerated beyond one per held row before a rebuild


def live_entries(heap: list[tuple[float, int, Any]], held: Mapping[Any, Any]) -> list[tuple[float, int, Any]]:
    """The heap without its stale entries (a refreshed or ended row's old expiry). A refresh
    leaves its old entry behind until that time passes: with long lifetimes and frequent
    refreshes they would pile up. Entries are unique (time, tick, key) tuples, so the order
    they pop in is the same whatever the heap's shape."""
    kept = [entry for entry in heap if (row := held.get(entry[2])) is not None and row.expires == entry[0]]
    heapq.heapify(kept)
    return kept
