"""State at an instant and intervals overlapping a window, from an ``Analysis``.

``restrict(analysis, Query(...))`` returns a new ``Analysis`` whose tables hold only what the
query asks for; the views render it as they render a whole one. The rules:

* a binding or BUL row is *in* the window [t1, t2] when it overlaps it: ``start <= t2`` and
  (``end`` is null or ``end > t1``). At an instant (t1 = t2 = t) that is exactly the rows
  valid at t (``start <= t < end``), the engine's ``state_at``.
* at an instant, each binding and BUL row also gets ``remaining``: seconds of lifetime left at
  t (from the last acceptance at or before t + the granted lifetime), null when the binding
  has no expiry (a draft-05 home binding) or a BUL entry is still waiting for its BA;
* messages and findings: time inside [t1, t2]; findings without a time are kept only without
  a window;
* traffic: recounted from the per-second bins that overlap the window (whole seconds), so a
  window's packet counts are those of the seconds it touches;
* ``problems`` (decoding problems of the file) are never restricted.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mcoaviz.pipeline import Analysis
from mcoaviz.query.filters import RowFilter

if TYPE_CHECKING:  # `decode` reads a Query without importing the engine (its start-up)
    from mcoaviz.engine.events import Event

TRAFFIC_KEY = ("interface", "node", "hoa", "coa", "bid", "direction", "via")


@dataclass(frozen=True, slots=True)
class Query:
    """What to show: a row filter and an optional window (capture times, epoch seconds)."""

    rows: RowFilter = field(default_factory=RowFilter)
    start: float | None = None  # window start (inclusive)
    end: float | None = None  # window end (inclusive); start == end: the state at an instant

    @classmethod
    def at(cls, t: float, rows: RowFilter | None = None) -> Query:
        return cls(rows or RowFilter(), t, t)

    @property
    def instant(self) -> float | None:
        return self.start if self.start is not None and self.start == self.end else None

    @property
    def windowed(self) -> bool:
        return self.start is not None

    @property
    def active(self) -> bool:
        return self.rows.active or self.windowed

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.rows.describe())
        if self.instant is not None:
            out["at"] = self.instant
        elif self.windowed:
            out["between"] = [self.start, self.end]
        return out


def overlaps(row: dict[str, Any], t1: float, t2: float) -> bool:
    return row["start"] <= t2 and (row["end"] is None or row["end"] > t1)


def restrict(analysis: Analysis, query: Query) -> Analysis:
    """The analysis as ``query`` asks to see it (a new object; the input is not changed)."""
    if not query.active:
        return analysis
    rows = query.rows
    t1, t2 = (query.start, query.end) if query.windowed else (-math.inf, math.inf)
    assert t1 is not None and t2 is not None
    bindings = [r for r in analysis.bindings if overlaps(r, t1, t2) and rows.binding(r)]
    bul = [r for r in analysis.bul if overlaps(r, t1, t2) and rows.bul(r)]
    if query.instant is not None:
        bindings = with_remaining_bindings(bindings, analysis.events, query.instant)
        bul = with_remaining_bul(bul, analysis.events, query.instant)
    messages = [m for m in analysis.messages if t1 <= m["time"] <= t2 and rows.message(m)]
    findings = [f for f in rows.findings(analysis.findings, analysis.messages)
                if not query.windowed or (f.get("time") is not None and t1 <= f["time"] <= t2)]
    bins = [b for b in analysis.traffic_bins
            if b["second"] <= t2 and b["second"] + 1 > t1 and rows.traffic(b)]
    traffic = ([t for t in analysis.traffic if rows.traffic(t)] if not query.windowed
               else traffic_from_bins(bins, analysis.traffic, t1, t2))
    # the header of a view still says how much the capture holds
    capture = dict(analysis.capture, query=query.describe(), messages_total=len(analysis.messages))
    return replace(analysis, capture=capture, messages=messages, bindings=bindings, bul=bul,
                   traffic=traffic, traffic_bins=bins, findings=findings)


def traffic_from_bins(bins: list[dict[str, Any]], totals: Iterable[dict[str, Any]], t1: float,
                      t2: float) -> list[dict[str, Any]]:
    """Traffic rows recounted from ``bins``; first/last are the whole rows' clipped to the
    seconds counted (bins do not keep packet times)."""
    sums: dict[tuple[Any, ...], list[Any]] = {}
    for b in bins:
        key = tuple(b[k] for k in TRAFFIC_KEY)
        cell = sums.setdefault(key, [0, 0, b["second"], b["second"]])
        cell[0] += b["packets"]
        cell[1] += b["bytes"]
        cell[2], cell[3] = min(cell[2], b["second"]), max(cell[3], b["second"])
    whole = {tuple(t[k] for k in TRAFFIC_KEY): t for t in totals}
    out = []
    for key, (packets, nbytes, low, high) in sums.items():
        row = dict(whole.get(key) or dict(zip(TRAFFIC_KEY, key, strict=True)))
        first, last = row.get("first", low), row.get("last", high + 1)
        row.update(packets=packets, bytes=nbytes, first=max(first, low), last=min(last, high + 1))
        out.append(row)
    return out


# --------------------------------------------------------------------------- remaining lifetime


def _timeline(events: list[Event], kinds: tuple[type, ...], key_of: Any) -> dict[Any, tuple[list, list]]:
    """key -> (times, expiries), in time order, from the events of ``kinds``."""
    lines: dict[Any, list[tuple[float, float | None]]] = defaultdict(list)
    for event in events:
        if isinstance(event, kinds):
            key = key_of(event)
            if key is not None:
                lines[key].append((event.time, event_expiry(event)))
    out = {}
    for key, points in lines.items():
        points.sort(key=lambda p: p[0])
        out[key] = ([p[0] for p in points], [p[1] for p in points])
    return out


def event_expiry(event: Event) -> float | None:
    from mcoaviz.engine.events import BulEntryChanged

    if isinstance(event, BulEntryChanged):
        return None if event.lifetime is None else event.time + event.lifetime
    return event.expires  # type: ignore[union-attr]


def _expiry_at(timeline: tuple[list, list] | None, t: float, since: float) -> tuple[bool, float | None]:
    """(found, expiry) of the last acceptance in [since, t] (``since``: the row's start, so that
    an earlier row of the same CoA does not count)."""
    if timeline is None:
        return False, None
    times, expiries = timeline
    i = bisect_right(times, t)
    return (True, expiries[i - 1]) if i and times[i - 1] >= since else (False, None)


def with_remaining_bindings(rows: list[dict[str, Any]], events: list[Event],
                            t: float) -> list[dict[str, Any]]:
    """Rows valid at ``t`` with ``remaining`` (s) and ``expires`` (capture time) as of ``t``."""
    from mcoaviz.engine.events import BindingRefreshed, BindingStarted

    timeline = _timeline(events, (BindingStarted, BindingRefreshed),
                         lambda e: (e.key.node, e.key.hoa, e.key.bid, e.coa))
    out = []
    for row in rows:
        found, expires = _expiry_at(timeline.get((row["node"], row["hoa"], row["bid"], row["coa"])), t,
                                    row["start"])
        if not found and row["end_reason"] == "expired" and row.get("lifetime") is not None:
            expires = row["end"]  # events not kept: an expiring row ends at its expiry
        out.append(dict(row, expires=expires, remaining=None if expires is None else max(0.0, expires - t)))
    return out


def with_remaining_bul(rows: list[dict[str, Any]], events: list[Event], t: float) -> list[dict[str, Any]]:
    """BUL rows valid at ``t`` with ``remaining`` as of ``t`` (null: not acknowledged by then)."""
    from mcoaviz.engine.events import BulEntryChanged

    timeline = _timeline(events, (BulEntryChanged,),
                         lambda e: (e.key.hoa, e.key.peer, e.key.bid, e.coa) if e.change == "acknowledged"
                         else None)
    out = []
    for row in rows:
        _, expires = _expiry_at(timeline.get((row["hoa"], row["peer"], row["bid"], row["coa"])), t,
                                row["start"])
        out.append(dict(row, expires=expires, remaining=None if expires is None else max(0.0, expires - t)))
    return out
