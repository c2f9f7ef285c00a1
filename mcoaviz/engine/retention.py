"""Retention: a long-running (live) engine keeps only a window of history.

With ``EngineConfig.retain`` set, the engine calls ``forget_before(engine, t - retain)`` every
``retain / AGE_STEPS`` seconds of capture time (never the wall clock: a replay faster than real
time is bounded the same way). What is older than the cut is dropped and counted in
``engine.aged``: message rows (also per message type), events, binding and BUL rows that
*ended* before the cut, and answered exchanges beyond ``ANSWERED_KEPT``. Open bindings and
everything state depends on are kept, so the state the engine reconstructs is the same; only
the history it can show is shorter. Of the aged message rows, the newest BU to and BA from each
node per home address and BID stay (``engine.pinned``, bounded by the nodes seen): a binding older than
the window still shows the exchange that made it. Offline analysis (``retain`` None) never
comes here.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcoaviz.engine.engine import BindingEngine

AGE_STEPS = 8  # trims per window: history held stays between 1 and 1 + 1/AGE_STEPS windows
ANSWERED_KEPT = 1 << 14  # answered BU/BA exchanges remembered (retransmission / duplicate BA)


def new_counts() -> dict[str, int]:
    return {"messages": 0, "events": 0, "bindings": 0, "bul": 0, "exchanges": 0}


def _drop_prefix(items: MutableSequence[Any], cut: float, time_of: Any) -> int:
    """Drop the leading items older than ``cut`` (lists in processing order); how many."""
    n = 0
    for item in items:
        if time_of(item) >= cut:
            break
        n += 1
    if n:
        del items[:n]
    return n


def forget_before(engine: BindingEngine, cut: float) -> None:
    """Drop (and count) the engine's history older than capture time ``cut``."""
    aged = engine.aged
    messages = engine._messages
    n = 0
    pinned = engine.pinned
    window = engine.config.duplicate_window
    for row in messages:
        if row["time"] >= cut:
            break
        kind = row["type"]
        engine.aged_types[kind] = engine.aged_types.get(kind, 0) + 1
        if kind in ("BU", "BA"):
            node = row.get("dst") if kind == "BU" else row.get("src")
            for bid in [b["bid"] for b in row["bids"]] or [None]:
                key = (kind, row.get("hoa"), node, bid)
                held = pinned.get(key)
                # the same message seen again at another capture point: the first sighting stays
                if held is None or held["seq"] != row["seq"] or row["time"] - held["time"] > window:
                    pinned[key] = row
        n += 1
    if n:
        del messages[:n]
    aged["messages"] += n
    engine.messages_aged += n
    aged["events"] += _drop_prefix(engine.events, cut, lambda e: e.time)

    cache = engine.cache
    keep = [r for r in cache.rows if r.end is None or r.end >= cut]
    if len(keep) != len(cache.rows):
        aged["bindings"] += len(cache.rows) - len(keep)
        cache.rows = keep
        for pair, rows in list(cache._rows_of.items()):
            kept = [r for r in rows if r.end is None or r.end >= cut]
            if kept:
                cache._rows_of[pair] = kept
            else:
                del cache._rows_of[pair]
    bul = engine.bul_table
    kept_bul = [r for r in bul.rows if r.end is None or r.end >= cut]
    aged["bul"] += len(bul.rows) - len(kept_bul)
    bul.rows = kept_bul

    answered = engine._pairing.answered
    extra = len(answered) - ANSWERED_KEPT
    if extra > 0 and isinstance(answered, dict):  # oldest first (insertion order: live runs keep a dict)
        for old in list(answered)[:extra]:
            del answered[old]
        aged["exchanges"] += extra
    engine.aged_before = cut
