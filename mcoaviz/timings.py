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
import marshal
import math
import struct
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from mcoaviz.engine.events import (
    EVIDENCE_MARGIN,
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


class LatencyFold:
    """The ``latencies`` table made as the engine's events arrive (sans-IO: ``observe`` takes
    them, ``close`` ends the capture), so a narrowed history (``AnalysisOptions.history``)
    keeps none of the events it reads (issue 8: memory that does not grow with the signalling).

    Rows come out in the order of the BUs' first sightings, as ``iter_latencies`` makes them from
    the whole history: a BU waits in a queue until nothing can change its row any more (its BA,
    or no A flag, or a retransmission; an unanswered BU once the engine can no longer apply it on
    evidence, ``EVIDENCE_MARGIN`` past its lifetime), and every BU behind it waits with it (a
    row's ``attempts`` count the earlier BUs of its chain). The queue holds the BUs of about one
    BA timeout; the rows go to a temporary file as they are decided (``marshal``, exact floats)."""

    def __init__(self) -> None:
        self._queue: deque[_WaitingBU] = deque()
        self._by_frame: dict[int, _WaitingBU] = {}  # first-sighting frame -> its queue entry
        # (hoa, peer, bid, coa) -> [attempts, first BU time] since the last answered BU
        self._chains: dict[tuple[Any, ...], list[Any]] = {}
        self._now = -math.inf  # the latest event time seen
        self._unanswered: list[_WaitingBU] = []  # waiting for their evidence window to pass
        self._rows: _ValueSpool | None = None
        self.closed = False

    def observe(self, events: Iterable[Event]) -> None:
        by_frame = self._by_frame
        for event in events:
            waiting: _WaitingBU | None
            if isinstance(event, MessageSeen):
                if event.kind == "BU" and event.key is not None:
                    waiting = _WaitingBU(event)
                    self._queue.append(waiting)
                    by_frame.setdefault(event.frame, waiting)
            elif isinstance(event, BulEntryChanged):
                if event.change in ("sent", "refreshed") and event.frame:
                    waiting = by_frame.get(event.frame)
                    if waiting is not None:
                        waiting.coas[event.key.bid] = event.coa
            elif isinstance(event, BindingUpdateProcessed):
                waiting = by_frame.get(event.bu_frame)
                if waiting is not None:
                    waiting.done = event
                    waiting.final = True
            elif isinstance(event, UnansweredBU):
                waiting = by_frame.get(event.frame)
                if waiting is not None:
                    waiting.outcome = event.reason
                    if event.lifetime == 0:
                        waiting.final = True
                    else:  # the engine may still apply it unconfirmed on evidence (data to its CoA)
                        waiting.until = event.time + event.lifetime + EVIDENCE_MARGIN
                        self._unanswered.append(waiting)
            elif isinstance(event, RetransmissionSeen):
                waiting = by_frame.get(event.frame)
                if waiting is not None and waiting.seen.frame == event.frame:
                    waiting.final = True  # no outcome is ever decided for a retransmission's frame
            t = getattr(event, "time", None)
            if t is not None and t > self._now:
                self._now = t
        if self._unanswered:
            now = self._now
            still = []
            for waiting in self._unanswered:
                if waiting.final or now > waiting.until:
                    waiting.final = True
                else:
                    still.append(waiting)
            self._unanswered = still
        self._emit()

    def close(self) -> None:
        """The capture ended: every BU's row is decided."""
        for waiting in self._queue:
            waiting.final = True
        self._unanswered = []
        self._emit()
        self.closed = True

    def _emit(self) -> None:
        queue = self._queue
        while queue and queue[0].final:
            waiting = queue.popleft()
            frame = waiting.seen.frame
            if self._by_frame.get(frame) is waiting:
                del self._by_frame[frame]
            for values in _bu_rows(waiting.seen, waiting.done, waiting.coas, waiting.outcome, self._chains):
                if self._rows is None:
                    self._rows = _ValueSpool()
                self._rows.append(values)

    def values(self) -> Iterator[tuple[Any, ...]]:
        """The decided rows' values (all of them once ``close``d), in ``LATENCY_COLUMNS`` order."""
        return iter(()) if self._rows is None else iter(self._rows)

    def __len__(self) -> int:
        return 0 if self._rows is None else len(self._rows)


class _WaitingBU:
    """A BU's first sighting waiting in ``LatencyFold``'s queue, with what was decided of it."""

    __slots__ = ("coas", "done", "final", "outcome", "seen", "until")

    def __init__(self, seen: MessageSeen) -> None:
        self.seen = seen
        self.coas: dict[int | None, str | None] = {}  # bid -> CoA sent (the last change wins)
        self.done: BindingUpdateProcessed | None = None
        self.outcome = "unanswered"
        self.final = False
        self.until = math.inf


_BLOCK_LENGTH = struct.Struct("<Q")  # the byte length written before each marshalled block


class _ValueSpool:
    """Row value tuples in an anonymous temporary file (``marshal``: str, int, float, bool and
    None come back exactly), written in blocks, each after its length; read back in order.
    A block is read whole and decoded by ``marshal.loads``: ``marshal.load`` on a file object
    reads each value by a call of the file's ``readinto`` (~9 us a row, 8x slower)."""

    BLOCK = 4096  # rows buffered before a write

    def __init__(self) -> None:
        from mcoaviz.rowspool import temporary_file

        self._file = temporary_file("mcoaviz-latencies-", "latency rows")
        self._pending: list[tuple[Any, ...]] = []
        self._count = 0

    def append(self, values: tuple[Any, ...]) -> None:
        self._pending.append(values)
        self._count += 1
        if len(self._pending) >= self.BLOCK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            try:
                block = marshal.dumps(self._pending)
                self._file.seek(0, 2)
                self._file.write(_BLOCK_LENGTH.pack(len(block)) + block)
            except OSError as exc:
                from mcoaviz.rowspool import spool_error

                raise spool_error(exc, "latency rows") from exc
            self._pending = []

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        self._flush()
        position = 0
        size = _BLOCK_LENGTH.size
        while True:
            self._file.seek(position)  # a caller may append (and so move the file) between blocks
            head = self._file.read(size)
            if len(head) < size:
                return
            (length,) = _BLOCK_LENGTH.unpack(head)
            block = self._file.read(length)
            position += size + length
            yield from marshal.loads(block)

    def __len__(self) -> int:
        return self._count


def _bu_rows(bu: MessageSeen, done: BindingUpdateProcessed | None, coas: Mapping[int | None, str | None],
             outcome: str, pending: dict[tuple[Any, ...], list[Any]]) -> Iterator[tuple[Any, ...]]:
    """The ``latencies`` rows of one BU (first sighting), its chains' counts updated in ``pending``."""
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


def iter_latencies(events: Iterable[Event], folded: LatencyFold | None = None) -> Iterator[dict[str, Any]]:
    """``latencies`` one row at a time (the streaming export never holds the table). ``folded``:
    the table made as the events came (``LatencyFold``; then ``events`` are not read)."""
    for values in _latency_values(events, folded):
        yield dict(zip(LATENCY_COLUMNS, values, strict=True))


def _latency_values(events: Iterable[Event], folded: LatencyFold | None = None) -> Iterator[tuple[Any, ...]]:
    """Each ``latencies`` row's values in ``LATENCY_COLUMNS`` order."""
    if folded is not None:
        yield from folded.values()
        return
    sent: dict[int, dict[int | None, str | None]] = defaultdict(dict)  # BU frame -> bid -> coa
    processed: dict[int, BindingUpdateProcessed] = {}
    unanswered: dict[int, str] = {}
    bus: list[MessageSeen] = []
    for event in events:
        if isinstance(event, MessageSeen) and event.kind == "BU" and event.key is not None:
            bus.append(event)
        elif isinstance(event, BulEntryChanged) and event.change in ("sent", "refreshed") and event.frame:
            sent[event.frame][event.key.bid] = event.coa
        elif isinstance(event, BindingUpdateProcessed):
            processed[event.bu_frame] = event
        elif isinstance(event, UnansweredBU):
            unanswered[event.frame] = event.reason
    pending: dict[tuple[Any, ...], list[Any]] = {}
    for bu in bus:
        yield from _bu_rows(bu, processed.get(bu.frame), sent.get(bu.frame, {}),
                            unanswered.get(bu.frame, "unanswered"), pending)


FLOAT_TEXT_LIMIT = 1 << 12  # floats whose text ``iter_latency_json`` keeps (a few BUs' rows)
_INTS = frozenset({int, type(None)})
_FLOATS = frozenset({float, type(None)})
_BOOLS = frozenset({bool, type(None)})


def iter_latency_json(events: Iterable[Event], encode: Callable[[Any], str],
                      frames: set[int] | None = None, folded: LatencyFold | None = None) -> Iterator[str]:
    """``encode(row)`` of each ``iter_latencies`` row (only BUs in ``frames`` when given), the
    text made directly: the C encoder costs ~7 us per 17-field dict, the dict ~1.5 us more.
    Values of the types the engine gives (str, int, finite float, bool or None) are written as
    json does; a row with anything else goes through ``encode``."""
    quoted: dict[Any, str] = {None: "null"}
    # float -> repr: a BU's rows (one per BID) repeat its times, and a float's shortest repr costs
    # ~6 000 instructions (capture times have 16-17 digits); equal non-zero floats have one repr
    # (0.0 and -0.0 are equal keys with two texts: zeros are not kept); emptied when full
    shown: dict[float, str] = {}

    def show(value: float | None) -> str:
        if value is None:
            return "null"
        text = shown.get(value) if value else None
        if text is None:
            text = float.__repr__(value)
            if value:
                if len(shown) >= FLOAT_TEXT_LIMIT:
                    shown.clear()
                shown[value] = text
        return text

    for values in _latency_values(events, folded):
        (hoa, peer, role, bid, coa, seq, lifetime, bu_frame, bu_time, ba_frame, ba_time, latency, status,
         accepted, outcome, attempts, since) = values
        if frames is not None and bu_frame not in frames:
            continue
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
            yield encode(dict(zip(LATENCY_COLUMNS, values, strict=True)))
            continue
        yield (f'{{"hoa": {texts[0]}, "peer": {texts[1]}, "peer_role": {texts[2]}, '
               f'"bid": {"null" if bid is None else bid}, "coa": {texts[3]}, "seq": {seq}, '
               f'"lifetime": {"null" if lifetime is None else lifetime}, "bu_frame": {bu_frame}, '
               f'"bu_time": {show(bu_time)}, "ba_frame": {"null" if ba_frame is None else ba_frame}, '
               f'"ba_time": {show(ba_time)}, '
               f'"latency": {show(latency)}, '
               f'"status": {"null" if status is None else status}, '
               f'"accepted": {"null" if accepted is None else ("true" if accepted else "false")}, '
               f'"outcome": {texts[4]}, "attempts": {attempts}, '
               f'"since_first_attempt": {show(since)}}}')


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
    rows = iter_latencies(analysis.events, getattr(analysis, "latency_fold", None))
    shown = _shown_frames(analysis)
    if shown is not None:
        rows = (r for r in rows if r["bu_frame"] in shown)
    return rows


def latency_json(analysis: Any, encode: Callable[[Any], str]) -> Iterator[str]:
    """``encode`` of each ``latency_rows`` row (``iter_latency_json``)."""
    return iter_latency_json(analysis.events, encode, _shown_frames(analysis),
                             getattr(analysis, "latency_fold", None))


def _shown_frames(analysis: Any) -> set[int] | None:
    """A restricted analysis's message frames (its latencies are those of these BUs), else None."""
    if analysis.capture.get("query"):
        return {m["frame"] for m in analysis.messages}
    return None


def gap_rows(analysis: Any) -> Iterator[dict[str, Any]]:
    """The ``gaps`` table of an ``Analysis``, one row at a time."""
    return iter_gaps(analysis.bindings, analysis.traffic, analysis.traffic_bins)
