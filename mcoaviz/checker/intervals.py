"""Binding intervals folded as the engine's binding events arrive (issue 8, memory).

The ``HistoryContext`` helpers ``held_at`` / ``held_before`` / ``held_since`` / ``covering`` /
``binding_intervals`` / ``ends_of`` / ``first_started_frame`` / ``pre_existing_intervals`` were
built at the end from every ``BindingStarted`` and ``BindingEnded``: the engine kept those events
(~1 KB each with their keys) for the whole capture. The streaming checker feeds them here
instead, as they are emitted, and keeps per binding one small tuple (key, CoA, start, end) plus
the few facts the helpers read; the events themselves are dropped. The answers are the same as
the event-built helpers' (``HistoryContext`` without ``intervals=``; tests/checker/
test_intervals.py compares both on every sample).
"""

from __future__ import annotations

import math
import sys
from array import array

from mcoaviz.checker.spill import TextLog
from mcoaviz.engine import events as ev
from mcoaviz.engine.keys import BindingKey

Interval = tuple[BindingKey, str, float, float]
End = tuple[float, str]  # a binding end: (time, reason: BindingEnded.reason)
END_REASONS = ("", *(c.REASON for c in (ev.BindingReplaced, ev.BindingOverwritten, ev.BindingDeregistered,
                                         ev.BindingExpired)))


class IntervalsRead:
    """Not an event: the pseudo-kind a rule declares (``registry.INTERVALS``) when it reads the
    binding intervals through the context's helpers rather than the binding events themselves."""


def _interval(line: str) -> Interval:
    node, hoa, bid, coa, start, end = line.split("\t")
    return BindingKey(node, hoa, int(bid) if bid else None), coa, float(start), float(end)


class BindingIntervals:
    """The binding intervals, folded in processing order exactly as ``HistoryContext`` builds
    them from the events: a start opens (key, CoA) unless it is open already, an end closes it."""

    __slots__ = ("_done", "_ends", "_first_frame", "_opened", "_pre_existing", "_regular")

    def __init__(self, *, first_frames: bool = True) -> None:
        # the first frame of each (HoA, CoA): no rule reads it today (``first_started_frame``)
        # and it was the largest part of the fold (1.25 MiB at 1 M packets), so the streaming
        # checker folds it only when asked; None: not folded
        self._first_frame: dict[tuple[str, str], int] | None = {} if first_frames else None
        self._opened: dict[tuple[BindingKey, str], float] = {}
        # the closed intervals, in the order they ended, as text lines (node, HoA, BID, CoA,
        # start, end; floats by repr, exact) in a log that goes to a temporary file: they are
        # read only at the end, and grow with the capture's length (the open ones stay in
        # ``_opened``)
        self._done = TextLog("ended binding intervals")
        self._regular: set[tuple[str, str]] = set()  # (node, HoA) that ever held a regular binding
        self._pre_existing: set[tuple[BindingKey, str, float]] = set()
        # (node, HoA) -> its binding ends (``ends_of``: a rule reads their time and reason), as
        # 16 bytes an end (time, reason's number) in one array, not the event (~0.5 KB with
        # its ``why``)
        self._ends: dict[tuple[str, str], array[float]] = {}

    @classmethod
    def of(cls, events: object) -> BindingIntervals:
        """Folded from a list of events (any kinds; the binding ones are read)."""
        store = cls()
        for e in events:  # type: ignore[attr-defined]
            store.observe(e)
        return store

    def observe(self, e: object) -> None:
        if isinstance(e, ev.BindingStarted):
            key, coa = e.key, sys.intern(e.coa)  # shared with the folds' and states' copies
            self._opened.setdefault((key, coa), e.time)
            if key.bid is None:
                self._regular.add((key.node, key.hoa))
            first = self._first_frame
            if first is not None:
                for c in (coa, e.claimed_coa):
                    pair = (key.hoa, c or "")
                    if e.frame < first.get(pair, 1 << 62):
                        first[pair] = e.frame
            if e.pre_existing:
                self._pre_existing.add((key, coa, e.time))
        elif isinstance(e, ev.BindingEnded):
            key = e.key
            pair = (key.node, key.hoa)
            ends = self._ends.get(pair)
            if ends is None:
                ends = self._ends[pair] = array("d")
            ends.extend((e.time, END_REASONS.index(e.reason)))
            start = self._opened.pop((key, e.coa), None)
            if start is not None:
                bid = "" if key.bid is None else key.bid
                self._done.append(f"{key.node}\t{key.hoa}\t{bid}\t{e.coa}\t{start!r}\t{e.time!r}")

    def compact(self) -> None:
        """The open bindings' table copied, sized for the bindings held now (see ``prune``)."""
        self._opened = dict(self._opened)

    @property
    def intervals(self) -> tuple[Interval, ...]:
        """(key, CoA, start, end) of every binding; end = inf while held (closed ones first, in
        the order they ended; then the open ones in the order they started)."""
        done = [_interval(line) for line in self._done.lines()]
        return (*done, *((key, coa, start, math.inf) for (key, coa), start in self._opened.items()))

    @property
    def regular_pairs(self) -> frozenset[tuple[str, str]]:
        """(node, HoA) pairs that held a regular (BID-less) binding at some time."""
        return frozenset(self._regular)

    @property
    def first_started_frame(self) -> dict[tuple[str, str], int]:
        if self._first_frame is None:
            raise LookupError("the first frames were not folded (BindingIntervals(first_frames=True))")
        return self._first_frame

    @property
    def pre_existing(self) -> frozenset[tuple[BindingKey, str, float]]:
        return frozenset(self._pre_existing)

    def ends_of(self, node: str, hoa: str) -> list[End]:
        """(time, reason) of every binding end of (node, HoA), in processing order."""
        ends = self._ends.get((node, hoa))
        if ends is None:
            return []
        return [(ends[i], END_REASONS[int(ends[i + 1])]) for i in range(0, len(ends), 2)]

    @property
    def ends(self) -> dict[tuple[str, str], list[End]]:
        """``ends_of`` of every (node, HoA) that had an end."""
        return {pair: self.ends_of(*pair) for pair in self._ends}


__all__ = ["END_REASONS", "BindingIntervals", "End", "Interval", "IntervalsRead"]
