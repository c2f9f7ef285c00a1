"""Registration latency (BU -> BA per care-of address) and data gaps around binding changes.

Both are derived from an ``Analysis`` (its engine events and its tables), never from a second
reading of the packets, so the export, the report and any other view show the same numbers.
They are the export's ``latencies`` and ``gaps`` tables (docs/architecture.md).

* ``latencies``: one row per (BU, BID) that asked for an acknowledgement. ``latency`` is BA
  time minus BU time (first sightings), None when no BA was captured (``outcome`` then says
  why: "superseded", "timeout", "capture-end"). ``attempts`` counts the BUs sent for the same
  (HoA, peer, BID, CoA) since the last answered one, and ``since_first_attempt`` is the BA time
  minus the first of them: the registration time a user saw when BAs were lost.
* ``gaps``: one row per binding change at a home agent or correspondent node: a binding
  started (``change`` "start"), replaced by a new CoA ("replaced"/"overwritten": old and new
  CoA), or ended without a successor ("expired", "deregistered", ...). ``old_last_data`` is the
  last data packet on the old CoA at or before the change, ``new_first_data`` the first on the
  new CoA at or after it; ``silent_before``/``silent_after`` are the distances to the change,
  ``interruption`` the time between the two. Data times come from the traffic rows' exact
  first/last when those decide, otherwise from per-second bins: ``precision`` is then 1.0 (s).
"""

from __future__ import annotations

import bisect
import json
import math
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from mcoaviz.engine.events import (
    BindingUpdateProcessed,
    BulEntryChanged,
    Event,
    MessageSeen,
    RetransmissionSeen,
    UnansweredBU,
)
from mcoaviz.engine.traffic import TrafficTable

LATENCY_COLUMNS = ("hoa", "peer", "peer_role", "bid", "coa", "seq", "lifetime", "bu_frame", "bu_time",
                   "ba_frame", "ba_time", "latency", "status", "accepted", "outcome", "attempts",
                   "since_first_attempt")
GAP_COLUMNS = ("node", "role", "hoa", "bid", "change", "time", "frame", "old_coa", "new_coa",
               "old_last_data", "new_first_data", "silent_before", "silent_after", "interruption",
               "precision")


def latencies(events: Iterable[Event]) -> list[dict[str, Any]]:
    """BU -> BA latency per BID of every acknowledged-or-awaited BU, in BU order."""
    return list(iter_latencies(events))


class SentCoas:
    """The one thing the latencies table reads from ``BulEntryChanged`` events: which CoA each BU
    sent for each BID. Folded as the events arrive (sans-IO: ``observe`` takes the engine's
    events), so a narrowed history (``AnalysisOptions.history``) need not keep those events
    (~3 per BU of a home agent's refreshes); what stays is one small tuple per BU sent."""

    READS = (MessageSeen, BindingUpdateProcessed, UnansweredBU)  # what iter_latencies reads of the rest

    SHARED_LIMIT = 1 << 16  # distinct (bid, coa, ...) tuples shared (past it the table starts over)

    def __init__(self, share: bool = True) -> None:
        self._by_frame: dict[int, tuple[Any, ...]] = {}  # BU frame -> (bid, coa, bid, coa, ...)
        # a node's refreshes send the same BIDs and CoAs again and again: one tuple for them all
        # (not for ``LatencyFold``, which drops each entry within seconds: the table would only
        # hold up to SHARED_LIMIT tuples for nothing)
        self._shared: dict[tuple[Any, ...], tuple[Any, ...]] | None = {} if share else None

    def observe(self, events: Iterable[Event]) -> None:
        for event in events:
            if event.__class__ is BulEntryChanged and event.change in ("sent", "refreshed") \
                    and event.frame:
                self.add(event.frame, event.key.bid, event.coa)

    def add(self, frame: int, bid: int | None, coa: str | None) -> None:
        flat = self._by_frame.get(frame, ())
        for i in range(0, len(flat), 2):
            if flat[i] == bid:  # a later change for the same BID wins (as in a dict)
                flat = (*flat[:i + 1], coa, *flat[i + 2:])
                break
        else:
            flat = (*flat, bid, coa)
        shared = self._shared
        if shared is None:
            self._by_frame[frame] = flat
            return
        if len(shared) >= self.SHARED_LIMIT:
            shared.clear()
        self._by_frame[frame] = shared.setdefault(flat, flat)

    def get(self, frame: int) -> dict[int | None, str | None]:
        flat = self._by_frame.get(frame, ())
        return dict(zip(flat[::2], flat[1::2], strict=True))

    def drop(self, frame: int) -> None:
        """Forget a BU whose rows were made (``LatencyFold``)."""
        self._by_frame.pop(frame, None)

    def __len__(self) -> int:
        return len(self._by_frame)


QUOTED_LIMIT = 1 << 12  # string texts ``LatencyFold`` keeps (then it starts over: ~1 us to remake one)


def _bu_frame(line: str) -> int:
    """The ``bu_frame`` of a latencies row's JSON text (as ``_latency_text`` and json write it)."""
    start = line.index('"bu_frame": ') + 12
    return int(line[start:line.index(",", start)])


class LatencyFold:
    """The ``latencies`` table folded as the engine's events arrive (a whole-file run's
    ``Pipeline.sent_coas``): the engine need not keep the BU sightings, outcomes and unanswered
    BUs for it, and its rows are not held for the whole capture.

    A BU's rows are written (as JSON text, to a ``RowSpool``) in BU order as soon as they can no
    longer change: when its outcome came (a BA, no A flag) or at once for a retransmission (no
    outcome ever refers to its frame). Only the BUs after the oldest undecided one wait (a BU
    with the A flag is decided within the engine's BA timeout). An unanswered BU's rows keep one
    thing that may still change, the requested lifetime (data later may apply the BU,
    ``BindingUpdateProcessed`` without a BA); they stay in memory until ``close`` with their
    place among the written rows. The rows are those of ``iter_latencies`` over the whole event
    list (tests/mcoaviz/test_latency_fold.py holds the two to each other on every sample)."""

    def __init__(self) -> None:
        self.sent = SentCoas(share=False)
        self._queue: deque[MessageSeen] = deque()  # BUs not decided yet, in BU order
        self._processed: dict[int, BindingUpdateProcessed] = {}  # of BUs in the queue or held
        self._unanswered: dict[int, str] = {}
        self._retransmitted: set[int] = set()  # queued BU frames no outcome will ever refer to
        self._waiting: set[int] = set()  # frames of the BUs in the queue
        self._pending: dict[tuple[Any, ...], list[Any]] = {}  # the chains of attempts (_bu_values)
        self._held: list[tuple[int, tuple[Any, ...]]] = []  # (rows written before it, values)
        self._held_frames: set[int] = set()
        self._spool: Any = None  # RowSpool, made with the first row
        self._count = 0  # rows written
        # texts of the strings written (addresses: one per CoA ever seen, so bounded)
        self._quoted: dict[Any, str] = {None: "null"}
        self._encode: Callable[[Any], str] | None = None
        self.closed = False

    def observe(self, events: Iterable[Event]) -> None:
        # one pass, exact classes (as ``SentCoas.observe``): most events are none of these
        waiting, held = self._waiting, self._held_frames
        for event in events:
            if type(event) is BulEntryChanged:
                if event.change in ("sent", "refreshed") and event.frame:
                    self.sent.add(event.frame, event.key.bid, event.coa)
            elif type(event) is MessageSeen:
                if event.kind == "BU" and event.key is not None:
                    self._queue.append(event)
                    waiting.add(event.frame)
            elif type(event) is BindingUpdateProcessed:
                if event.bu_frame in waiting or event.bu_frame in held:
                    self._processed[event.bu_frame] = event
            elif type(event) is UnansweredBU:
                if event.frame in waiting or event.frame in held:
                    self._unanswered[event.frame] = event.reason
            elif type(event) is RetransmissionSeen:
                self._retransmitted.add(event.frame)
        self._advance(final=False)

    def _advance(self, final: bool) -> None:
        queue, processed = self._queue, self._processed
        while queue:
            bu = queue[0]
            frame = bu.frame
            done = processed.get(frame)
            answered = done is not None and (done.ba_frame is not None or not done.ack_requested)
            unanswered = frame in self._unanswered
            if not (final or answered or unanswered or frame in self._retransmitted):
                return  # its outcome has not come yet: it and every later BU wait
            queue.popleft()
            self._waiting.discard(frame)
            self._retransmitted.discard(frame)
            rows = list(_bu_values(bu, done, self.sent.get(frame), self._unanswered.get(frame, "unanswered"),
                                   self._pending))
            self.sent.drop(frame)
            if unanswered and not answered and not final:  # its lifetime may still come (data)
                self._held_frames.add(frame)
                self._held.extend((self._written(), values) for values in rows)
                continue
            processed.pop(frame, None)
            self._unanswered.pop(frame, None)
            for values in rows:
                self._write(values)

    def _written(self) -> int:
        return self._count

    def _write(self, values: tuple[Any, ...]) -> None:
        if self._spool is None:
            from mcoaviz.export import row_encoder
            from mcoaviz.rowspool import RowSpool

            self._spool, self._encode = RowSpool(), row_encoder()
        assert self._encode is not None
        if len(self._quoted) >= QUOTED_LIMIT:
            self._quoted = {None: "null"}
        self._spool.append_json(_latency_text(values, self._encode, self._quoted))
        self._count += 1

    def close(self) -> None:
        """No more events: every BU still waiting is decided as the whole history decides it,
        and the held rows get their final lifetime and outcome."""
        if self.closed:
            return
        self._advance(final=True)
        held = []
        for position, values in self._held:
            frame = values[7]
            done = self._processed.get(frame)
            lifetime = done.requested_lifetime if done else None
            held.append((position, (*values[:6], lifetime, *values[7:14],
                                    self._unanswered.get(frame, "unanswered"), *values[15:])))
        self._held = held
        self.closed = True
        # what only the fold needed: gone before the export writes (its peak is then)
        self.sent = SentCoas(share=False)
        self._processed, self._unanswered, self._pending = {}, {}, {}
        self._quoted = {None: "null"}

    def iter_json(self, encode: Callable[[Any], str], frames: set[int] | None = None) -> Iterator[str]:
        """The rows' JSON text in BU order (only BUs in ``frames`` when given)."""
        self.close()
        quoted: dict[Any, str] = {None: "null"}
        held = iter(self._held)
        nxt = next(held, None)
        lines: Iterable[str] = self._spool.lines() if self._spool is not None else ()
        for index, line in enumerate(lines):
            while nxt is not None and nxt[0] == index:
                if frames is None or nxt[1][7] in frames:
                    yield _latency_text(nxt[1], encode, quoted)
                nxt = next(held, None)
            if frames is None or _bu_frame(line) in frames:
                yield line
        while nxt is not None:
            if frames is None or nxt[1][7] in frames:
                yield _latency_text(nxt[1], encode, quoted)
            nxt = next(held, None)

    def iter_rows(self, frames: set[int] | None = None) -> Iterator[dict[str, Any]]:
        """The rows as dicts (each line read back: json gives the values it was written from)."""
        from mcoaviz.export import row_encoder

        loads = json.loads
        for line in self.iter_json(row_encoder(), frames):
            yield loads(line)


def iter_latencies(events: Iterable[Event], folded: SentCoas | None = None) -> Iterator[dict[str, Any]]:
    """``latencies`` one row at a time (the streaming export never holds the table). ``folded``:
    the BUs' CoAs folded as the events came (then ``events`` may lack ``BulEntryChanged``)."""
    for values in _latency_values(events, folded):
        yield dict(zip(LATENCY_COLUMNS, values, strict=True))


def _latency_values(events: Iterable[Event], folded: SentCoas | None = None) -> Iterator[tuple[Any, ...]]:
    """Each ``latencies`` row's values in ``LATENCY_COLUMNS`` order."""
    sent: dict[int, dict[int | None, str | None]] = defaultdict(dict)  # BU frame -> bid -> coa
    processed: dict[int, BindingUpdateProcessed] = {}
    unanswered: dict[int, str] = {}
    bus: list[MessageSeen] = []
    for event in events:
        if isinstance(event, MessageSeen) and event.kind == "BU" and event.key is not None:
            bus.append(event)
        elif isinstance(event, BulEntryChanged) and event.change in ("sent", "refreshed") and event.frame:
            if folded is None:
                sent[event.frame][event.key.bid] = event.coa
        elif isinstance(event, BindingUpdateProcessed):
            processed[event.bu_frame] = event
        elif isinstance(event, UnansweredBU):
            unanswered[event.frame] = event.reason
    # (hoa, peer, bid, coa) -> [attempts, first BU time] since the last answered BU
    pending: dict[tuple[Any, ...], list[Any]] = {}
    for bu in bus:
        coas = sent.get(bu.frame, {}) if folded is None else folded.get(bu.frame)
        yield from _bu_values(bu, processed.get(bu.frame), coas, unanswered.get(bu.frame, "unanswered"),
                              pending)


def _bu_values(bu: MessageSeen, done: BindingUpdateProcessed | None, coas: dict[int | None, str | None],
               outcome: str, pending: dict[tuple[Any, ...], list[Any]]) -> Iterator[tuple[Any, ...]]:
    """The rows of one BU (taken in BU order: ``pending`` holds the chains of attempts)."""
    if done is not None and not done.ack_requested:
        return  # no BA was asked for: there is no latency to measure
    bids: list[int | None] = list(bu.bids) or list(coas) or [None]
    for bid in bids:
        coa = coas.get(bid)
        chain = (bu.hoa, bu.peer, bid, coa)
        attempt = pending.setdefault(chain, [0, bu.time])
        attempt[0] += 1
        lifetime = done.requested_lifetime if done else None
        if done is not None and done.ba_frame is not None:
            result = next((r for r in done.results if r.bid == bid), None)
            status = result.status if result is not None and result.status is not None else done.ba_status
            del pending[chain]
            yield (bu.hoa, bu.peer, bu.role, bid, coa, bu.seq, lifetime, bu.frame, bu.time, done.ba_frame,
                   done.time, done.time - bu.time, status, status is not None and status < 128,
                   "answered", attempt[0], done.time - attempt[1])
        else:
            yield (bu.hoa, bu.peer, bu.role, bid, coa, bu.seq, lifetime, bu.frame, bu.time, None, None,
                   None, None, None, outcome, attempt[0], None)


_INTS = frozenset({int, type(None)})
_FLOATS = frozenset({float, type(None)})
_BOOLS = frozenset({bool, type(None)})


def iter_latency_json(events: Iterable[Event], encode: Callable[[Any], str],
                      frames: set[int] | None = None, folded: SentCoas | None = None) -> Iterator[str]:
    """``encode(row)`` of each ``iter_latencies`` row (only BUs in ``frames`` when given), the
    text made directly: the C encoder costs ~7 us per 17-field dict, the dict ~1.5 us more.
    Values of the types the engine gives (str, int, finite float, bool or None) are written as
    json does; a row with anything else goes through ``encode``."""
    quoted: dict[Any, str] = {None: "null"}
    for values in _latency_values(events, folded):
        if frames is not None and values[7] not in frames:
            continue
        yield _latency_text(values, encode, quoted)


def _latency_text(values: tuple[Any, ...], encode: Callable[[Any], str], quoted: dict[Any, str]) -> str:
    """One row's JSON text from its values (``quoted``: the strings' texts made so far)."""
    (hoa, peer, role, bid, coa, seq, lifetime, bu_frame, bu_time, ba_frame, ba_time, latency, status,
     accepted, outcome, attempts, since) = values
    texts = []
    for text in (hoa, peer, role, coa, outcome):
        found = quoted.get(text) if type(text) is str or text is None else None
        if found is None and type(text) is str:
            found = quoted[text] = encode(text)
        texts.append(found)
    floats = (bu_time, ba_time, latency, since)
    if (None in texts or not {type(bid), type(seq), type(lifetime), type(bu_frame), type(ba_frame),
                              type(status), type(attempts)} <= _INTS
            or not {type(value) for value in floats} <= _FLOATS or type(accepted) not in _BOOLS
            or any(value is not None and value - value != 0.0 for value in floats)):  # inf, NaN
        return encode(dict(zip(LATENCY_COLUMNS, values, strict=True)))
    return (f'{{"hoa": {texts[0]}, "peer": {texts[1]}, "peer_role": {texts[2]}, '
            f'"bid": {"null" if bid is None else bid}, "coa": {texts[3]}, "seq": {seq}, '
            f'"lifetime": {"null" if lifetime is None else lifetime}, "bu_frame": {bu_frame}, '
            f'"bu_time": {bu_time!r}, "ba_frame": {"null" if ba_frame is None else ba_frame}, '
            f'"ba_time": {"null" if ba_time is None else repr(ba_time)}, '
            f'"latency": {"null" if latency is None else repr(latency)}, '
            f'"status": {"null" if status is None else status}, '
            f'"accepted": {"null" if accepted is None else ("true" if accepted else "false")}, '
            f'"outcome": {texts[4]}, "attempts": {attempts}, '
            f'"since_first_attempt": {"null" if since is None else repr(since)}}}')


class _DataTimes:
    """When data crossed a (node, HoA, CoA): exact first/last per traffic row, and the seconds
    with packets (from ``traffic_bins``) for everything in between."""

    def __init__(self, traffic: Iterable[dict[str, Any]], bins: Iterable[dict[str, Any]]) -> None:
        totals = getattr(traffic, "source", None)
        self.spans: dict[tuple[str, str, str], list[tuple[float, float]]]
        self.seconds: Mapping[tuple[str, str, str], Sequence[int]]  # sorted distinct busy bin starts
        if isinstance(totals, TrafficTable):  # the whole table's rows: read its totals directly
            self.spans = totals.data_spans()
        else:
            self.spans = defaultdict(list)
            for row in traffic:
                if row.get("packets"):
                    self.spans[(row["node"], row["hoa"], row["coa"])].append((row["first"], row["last"]))
        table = getattr(bins, "source", None)
        if isinstance(table, TrafficTable):  # the whole table's bins: read its columns directly
            self.seconds = table.busy_seconds()
            return
        seconds: dict[tuple[str, str, str], set[int]] = defaultdict(set)
        for row in bins:
            if row.get("packets"):
                seconds[(row["node"], row["hoa"], row["coa"])].add(int(row["second"]))
        self.seconds = {key: sorted(values) for key, values in seconds.items()}

    def first_after(self, key: tuple[str, str, str], t: float) -> tuple[float | None, float]:
        """(time of the first data at or after t, precision in s)."""
        spans = self.spans.get(key, ())
        if not any(last >= t for _, last in spans):  # the rows bound what the bins may claim
            return None, 0.0
        exact = min((first for first, _ in spans if first >= t), default=None)
        seconds: Sequence[int] = self.seconds.get(key, ())
        i = bisect.bisect_left(seconds, math.floor(t))
        binned = seconds[i] if i < len(seconds) else None
        if exact is not None and (binned is None or math.floor(exact) <= binned):
            return exact, 0.0
        if binned is None:
            return None, 0.0
        return max(float(binned), t), 1.0

    def last_before(self, key: tuple[str, str, str], t: float) -> tuple[float | None, float]:
        """(time of the last data at or before t, precision in s)."""
        spans = self.spans.get(key, ())
        if not any(first <= t for first, _ in spans):
            return None, 0.0
        exact = max((last for _, last in spans if last <= t), default=None)
        seconds: Sequence[int] = self.seconds.get(key, ())
        i = bisect.bisect_right(seconds, math.floor(t))
        binned = seconds[i - 1] if i else None
        if exact is not None and (binned is None or math.floor(exact) >= binned):
            return exact, 0.0
        if binned is None:
            return None, 0.0
        return min(binned + 1.0, t), 1.0


def gaps(bindings: Iterable[dict[str, Any]], traffic: Iterable[dict[str, Any]],
         bins: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Data gaps around every binding change, in time order."""
    return list(iter_gaps(bindings, traffic, bins))


# a binding row as ``iter_gaps`` keeps it: the fields it reads, not the row's dict
_START, _END, _END_REASON, _COA, _ROLE, _START_FRAME, _END_FRAME = range(7)


def iter_gaps(bindings: Iterable[dict[str, Any]], traffic: Iterable[dict[str, Any]],
              bins: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """``gaps`` one row at a time. What is held until the sort is done is one small tuple per
    binding and per change (the rows' dicts and the data look-ups are made as rows are read):
    a long capture's table is not held as dicts."""
    data = _DataTimes(traffic, bins)
    lanes: dict[tuple[str, str, Any], list[tuple[Any, ...]]] = defaultdict(list)
    for row in bindings:
        lanes[(row["node"], row["hoa"], row["bid"])].append(
            (row["start"], row["end"], row["end_reason"], row["coa"], row["role"], row.get("start_frame"),
             row.get("end_frame")))
    # (time, node, hoa, bid, role, change, frame, old CoA, new CoA) per change
    changes: list[tuple[Any, ...]] = []
    for (node, hoa, bid), rows in lanes.items():
        rows.sort(key=lambda r: r[_START])
        for i, entry in enumerate(rows):
            previous = rows[i - 1] if i else None
            follows = previous is not None and previous[_END] is not None and previous[_END] == entry[_START]
            old = previous if follows else None
            change = old[_END_REASON] if old is not None else "start"
            changes.append((entry[_START], node, hoa, bid, entry[_ROLE], change, entry[_START_FRAME],
                            old[_COA] if old is not None else None, entry[_COA]))
            successor = rows[i + 1] if i + 1 < len(rows) else None
            ends_alone = entry[_END] is not None and (successor is None or successor[_START] != entry[_END])
            if ends_alone:
                changes.append((entry[_END], node, hoa, bid, entry[_ROLE], entry[_END_REASON],
                                entry[_END_FRAME], entry[_COA], None))
    lanes.clear()
    changes.sort(key=lambda c: (c[0], c[1], c[2], -1 if c[3] is None else c[3]))
    for change in changes:
        yield _gap(data, *change)


def _gap(data: _DataTimes, time: float, node: str, hoa: str, bid: Any, role: Any, change: str | None,
         frame: int | None, old_coa: str | None, new_coa: str | None) -> dict[str, Any]:
    last, p_last = data.last_before((node, hoa, old_coa), time) if old_coa else (None, 0.0)
    first, p_first = data.first_after((node, hoa, new_coa), time) if new_coa else (None, 0.0)
    return {
        "node": node, "role": role, "hoa": hoa, "bid": bid, "change": change,
        "time": time, "frame": frame, "old_coa": old_coa, "new_coa": new_coa,
        "old_last_data": last, "new_first_data": first,
        "silent_before": None if last is None else time - last,
        "silent_after": None if first is None else first - time,
        "interruption": None if last is None or first is None else first - last,
        "precision": max(p_last, p_first),
    }


def timing_tables(analysis: Any) -> dict[str, list[dict[str, Any]]]:
    """The ``latencies`` and ``gaps`` tables of an ``Analysis``. A restricted analysis
    (``mcoaviz.query.restrict``: filters, ``--at``, ``--between``) keeps every engine event, so
    its latencies are those of the BUs its ``messages`` table still holds."""
    return {"latencies": list(latency_rows(analysis)), "gaps": list(gap_rows(analysis))}


def latency_rows(analysis: Any) -> Iterator[dict[str, Any]]:
    """The ``latencies`` table of an ``Analysis``, one row at a time."""
    folded = getattr(analysis, "sent_coas", None)
    if isinstance(folded, LatencyFold):
        return folded.iter_rows(_shown_frames(analysis))
    rows = iter_latencies(analysis.events, folded)
    shown = _shown_frames(analysis)
    if shown is not None:
        rows = (r for r in rows if r["bu_frame"] in shown)
    return rows


def latency_json(analysis: Any, encode: Callable[[Any], str]) -> Iterator[str]:
    """``encode`` of each ``latency_rows`` row (``iter_latency_json``)."""
    folded = getattr(analysis, "sent_coas", None)
    if isinstance(folded, LatencyFold):
        return folded.iter_json(encode, _shown_frames(analysis))
    return iter_latency_json(analysis.events, encode, _shown_frames(analysis),
                             getattr(analysis, "sent_coas", None))


def _shown_frames(analysis: Any) -> set[int] | None:
    """A restricted analysis's message frames (its latencies are those of these BUs), else None."""
    if analysis.capture.get("query"):
        return {m["frame"] for m in analysis.messages}
    return None


def gap_rows(analysis: Any) -> Iterator[dict[str, Any]]:
    """The ``gaps`` table of an ``Analysis``, one row at a time."""
    return iter_gaps(analysis.bindings, analysis.traffic, analysis.traffic_bins)
