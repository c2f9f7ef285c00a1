"""What the TUI shows, computed without Textual: the state of every binding as of a time cursor.

``ViewData`` is a copy of the analysis tables taken under the ingest lock (so the UI never reads
the engine while the ingest thread writes it); ``screen_at`` turns it and a cursor into plain
rows for the widgets. Everything here is pure and tested on the sample captures' truth files.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_SECONDS = 16  # seconds of history in a CoA's sparkline
MAX_LISTED = 300  # rows at most in the message / findings tables (DataTable is slow when huge)
DUPLICATE_WINDOW = 0.5  # as the engine's: the same message at another capture point within this
ACCEPTED_BELOW = 128  # BA status < 128: accepted (RFC 6275 §6.1.8)


@dataclass
class ViewData:
    """The analysis tables a screen is drawn from (see docs/architecture.md, export contract).

    Traffic comes per HoA: ``traffic_of(hoa)`` returns that HoA's per-second bins (a live session
    reads only the selected HoA's bins instead of copying every bin on every redraw); without it
    ``traffic_bins`` holds them all. The indexes below are built lazily, once per copy."""

    messages: list[dict[str, Any]]
    bindings: list[dict[str, Any]]  # every binding row over time
    traffic_bins: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    first_time: float | None
    last_time: float | None
    messages_dropped: int = 0  # older messages no longer held (live, bounded memory)
    traffic_of: Callable[[str], list[dict[str, Any]]] | None = field(default=None, repr=False)
    _traffic: dict[str, TrafficIndex] = field(default_factory=dict, repr=False)
    _times: list[float] | None = field(default=None, repr=False)
    _by_hoa: dict[str | None, tuple[list[float], list[dict[str, Any]]]] | None = \
        field(default=None, repr=False)
    _message_times: list[float] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.messages.sort(key=lambda m: m["time"])  # capture order; interfaces may interleave

    def traffic(self, hoa: str) -> TrafficIndex:
        index = self._traffic.get(hoa)
        if index is None:
            rows = self.traffic_of(hoa) if self.traffic_of is not None else \
                [r for r in self.traffic_bins if r["hoa"] == hoa]
            index = self._traffic[hoa] = TrafficIndex(rows)
        return index

    def message_times(self) -> list[float]:
        if self._message_times is None:
            self._message_times = [m["time"] for m in self.messages]
        return self._message_times

    def messages_of(self, hoa: str | None) -> tuple[list[float], list[dict[str, Any]]]:
        """The messages of one HoA and their times (both in time order)."""
        if self._by_hoa is None:
            by: dict[str | None, tuple[list[float], list[dict[str, Any]]]] = {}
            for m in self.messages:
                times, rows = by.setdefault(m.get("hoa"), ([], []))
                times.append(m["time"])
                rows.append(m)
            self._by_hoa = by
        return self._by_hoa.get(hoa, ([], []))

    def event_times(self) -> list[float]:
        """Sorted instants at which something changed: messages, binding starts/ends, findings."""
        if self._times is None:
            times = set(self.message_times())
            for row in self.bindings:
                times.add(row["start"])
                if row["end"] is not None:
                    times.add(row["end"])
            times.update(f["time"] for f in self.findings if f.get("time") is not None)
            self._times = sorted(times)
        return self._times

    def bindings_at(self, t: float) -> list[dict[str, Any]]:
        return [r for r in self.bindings if r["start"] <= t and (r["end"] is None or t < r["end"])]


def view_of_analysis(analysis: Any) -> ViewData:
    """A ViewData over a finished ``Analysis`` (the tables are not copied)."""
    return ViewData(list(analysis.messages), analysis.bindings, analysis.traffic_bins, analysis.findings,
                    analysis.capture["first_time"], analysis.capture["last_time"])


class TrafficIndex:
    """Per (node, HoA, CoA, direction): cumulative packets/bytes by second, for queries at any t.

    The same packet seen at several capture points is counted at each; the busiest capture
    point's count is shown (summing would count one packet several times)."""

    def __init__(self, bins: list[dict[str, Any]]) -> None:
        per: dict[tuple[Any, ...], dict[int, list[int]]] = defaultdict(dict)
        for row in bins:
            key = (row["node"], row["hoa"], row["coa"], row["direction"], row["interface"])
            cell = per[key].setdefault(row["second"], [0, 0])
            cell[0] += row["packets"]
            cell[1] += row["bytes"]
        self._series: dict[tuple[Any, ...], list[tuple[list[int], list[int], list[int]]]] = defaultdict(list)
        for (node, hoa, coa, direction, _iface), seconds in per.items():
            order = sorted(seconds)
            packets, nbytes, total_p, total_b = [], [], 0, 0
            for s in order:
                total_p += seconds[s][0]
                total_b += seconds[s][1]
                packets.append(total_p)
                nbytes.append(total_b)
            self._series[(node, hoa, coa, direction)].append((order, packets, nbytes))
        # sparkline: per second, both directions, each at its busiest capture point
        busiest: dict[tuple[Any, ...], int] = defaultdict(int)
        for (node, hoa, coa, direction, _iface), seconds in per.items():
            for s, (p, _b) in seconds.items():
                k = (node, hoa, coa, direction, s)
                busiest[k] = max(busiest[k], p)
        self._per_second: dict[tuple[str, str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for (node, hoa, coa, _direction, s), p in busiest.items():
            self._per_second[(node, hoa, coa)][s] += p

    def totals(self, node: str, hoa: str, coa: str, direction: str, t: float) -> tuple[int, int]:
        """Packets and bytes up to and including second int(t), at the busiest capture point."""
        best = (0, 0)
        for seconds, packets, nbytes in self._series.get((node, hoa, coa, direction), ()):
            i = bisect.bisect_right(seconds, int(t)) - 1
            if i >= 0 and packets[i] > best[0]:
                best = (packets[i], nbytes[i])
        return best

    def sparkline(self, node: str, hoa: str, coa: str, t: float, width: int = SPARK_SECONDS) -> str:
        """Packets per second over the ``width`` seconds ending at t, as block characters."""
        seconds = self._per_second.get((node, hoa, coa), {})
        values = [seconds.get(int(t) - width + 1 + i, 0) for i in range(width)]
        top = max(values)
        if top == 0:
            return " " * width
        return "".join(" " if v == 0 else SPARK_BLOCKS[min(7, (v * 8 - 1) // top)] for v in values)


@dataclass(frozen=True)
class TreeEntry:
    """One line of the node / HoA tree: a node (HA or CN) with its HoAs, or an MN's HoA."""

    group: str  # "Home agents" | "Correspondents" | "Mobile nodes"
    node: str | None
    hoa: str | None
    bindings: int  # bindings open at the cursor
    messages: int  # messages up to the cursor


@dataclass(frozen=True)
class BindingLine:
    node: str
    role: str
    hoa: str
    bid: int | None
    coa: str
    state: str  # "active" | "unconfirmed" | "home" | "expired" (lifetime over, engine not yet told)
    status: str  # effective status name of the last BA covering this BID, or ""
    remaining: float | None  # lifetime left at the cursor, s; None: no expiry
    last_bu: tuple[int, float, int | None] | None  # (frame, time, seq)
    last_ba: tuple[int, float, int | None] | None
    to_mn: tuple[int, int]  # packets, bytes
    from_mn: tuple[int, int]
    spark: str


def _matches(text: str, *fields: object) -> bool:
    return not text or any(text in str(f).lower() for f in fields if f is not None)


def hoas_of(data: ViewData) -> list[str]:
    data.messages_of(None)  # builds the per-HoA index
    seen = {r["hoa"] for r in data.bindings}
    seen.update(h for h in (data._by_hoa or {}) if h)
    return sorted(seen)


def tree_at(data: ViewData, t: float, text: str = "") -> list[TreeEntry]:
    """Nodes (HAs, CNs) with the HoAs they hold bindings for, then the MNs' HoAs; counts at t."""
    text = text.lower()
    open_rows = data.bindings_at(t)
    messages_by_hoa: dict[str, int] = defaultdict(int)
    for hoa in hoas_of(data):
        messages_by_hoa[hoa] = bisect.bisect_right(data.messages_of(hoa)[0], t)
    coas_by_hoa: dict[str, set[str]] = defaultdict(set)
    bids_by_hoa: dict[str, set[str]] = defaultdict(set)
    for r in data.bindings:
        coas_by_hoa[r["hoa"]].add(r["coa"])
        bids_by_hoa[r["hoa"]].add(str(r["bid"]))

    def wanted(hoa: str) -> bool:
        return _matches(text, hoa, *coas_by_hoa[hoa], *bids_by_hoa[hoa])

    pairs: dict[tuple[str, str, str], int] = {}
    for r in data.bindings:  # every node/HoA pair ever seen stays in the tree (count 0 when none open)
        if r["start"] <= t:
            pairs.setdefault((r["role"], r["node"], r["hoa"]), 0)
    for r in open_rows:
        pairs[(r["role"], r["node"], r["hoa"])] += 1
    entries: list[TreeEntry] = []
    for role, group in (("home-agent", "Home agents"), ("correspondent", "Correspondents")):
        nodes = sorted({node for (rl, node, _h) in pairs if rl == role})
        for node in nodes:
            hoas = sorted(h for (rl, n, h) in pairs if rl == role and n == node and wanted(h))
            if not hoas:
                continue
            total = sum(pairs[(role, node, h)] for h in hoas)
            entries.append(TreeEntry(group, node, None, total, 0))
            entries.extend(TreeEntry(group, node, h, pairs[(role, node, h)], messages_by_hoa[h])
                           for h in hoas)
    paired = {h for (_r, _n, h) in pairs}
    open_by_hoa: dict[str, int] = defaultdict(int)  # (per HoA, not a scan per HoA: 3 000 HoAs)
    for r in open_rows:
        open_by_hoa[r["hoa"]] += 1
    for hoa in hoas_of(data):
        if wanted(hoa) and (messages_by_hoa[hoa] or hoa in paired):
            entries.append(TreeEntry("Mobile nodes", None, hoa, open_by_hoa[hoa], messages_by_hoa[hoa]))
    return entries


def _last_exchange(data: ViewData, kind: str, node: str, hoa: str, bid: int | None,
                   t: float) -> dict[str, Any] | None:
    """The last BU to (or BA from) ``node`` for this HoA and BID at or before t; of several
    sightings of that message at different capture points, the first (as the engine counts it)."""
    side = "dst" if kind == "BU" else "src"
    times, rows = data.messages_of(hoa)
    found = None
    for i in range(bisect.bisect_right(times, t) - 1, -1, -1):
        m = rows[i]
        if found is not None and (m["time"] < found["time"] - DUPLICATE_WINDOW):
            break
        if m["type"] != kind or m.get(side) != node:
            continue
        bids = [b["bid"] for b in m["bids"]]
        if bids and bid not in bids:
            continue
        if found is None or m["seq"] == found["seq"]:
            found = m  # an earlier sighting of the same message replaces a later one
        else:
            break
    return found


def _status_name(ba: dict[str, Any] | None, bid: int | None) -> str:
    if ba is None:
        return ""
    for b in ba["bids"]:
        if b["bid"] == bid and b.get("status_name"):
            return str(b["status_name"])
    return str(ba.get("status_name") or "")


def _remaining(row: dict[str, Any], bu: dict[str, Any] | None, ba: dict[str, Any] | None,
               t: float) -> float | None:
    if row["lifetime"] is None:
        return None
    if ba is not None and (ba.get("status") or 0) < ACCEPTED_BELOW and ba["lifetime"] is not None:
        since, lifetime = ba["time"], ba["lifetime"]
    elif bu is not None and bu["lifetime"] is not None and "A" not in bu["flags"]:
        since, lifetime = bu["time"], bu["lifetime"]
    else:
        since, lifetime = row["start"], row["lifetime"]
    return max(0.0, since + lifetime - t)


def _exchange_tuple(m: dict[str, Any] | None) -> tuple[int, float, int | None] | None:
    return None if m is None else (m["frame"], m["time"], m["seq"])


def bindings_for(data: ViewData, hoa: str | None, t: float, text: str = "") -> list[BindingLine]:
    """The binding table of one HoA at t: every node's bindings for it, sorted by node and BID."""
    if hoa is None:
        return []
    text = text.lower()
    rows = [r for r in data.bindings_at(t) if r["hoa"] == hoa]
    if text and not _matches(text, hoa):
        rows = [r for r in rows if _matches(text, r["coa"], r["bid"], r["node"])]
    rows.sort(key=lambda r: (r["role"], r["node"], -1 if r["bid"] is None else r["bid"]))
    lines = []
    traffic = data.traffic(hoa)
    for r in rows:
        bu = _last_exchange(data, "BU", r["node"], hoa, r["bid"], t)
        ba = _last_exchange(data, "BA", r["node"], hoa, r["bid"], t)
        state = "home" if r["home"] else ("active" if r["confirmed"] else "unconfirmed")
        remaining = _remaining(r, bu, ba, t)
        if remaining == 0.0:
            # live: the lifetime ran out but no packet has come since to make the engine expire it
            state = "expired"
        lines.append(BindingLine(
            node=r["node"], role=r["role"], hoa=hoa, bid=r["bid"], coa=r["coa"], state=state,
            status=_status_name(ba, r["bid"]), remaining=remaining,
            last_bu=_exchange_tuple(bu), last_ba=_exchange_tuple(ba),
            to_mn=traffic.totals(r["node"], hoa, r["coa"], "to-mn", t),
            from_mn=traffic.totals(r["node"], hoa, r["coa"], "from-mn", t),
            spark=traffic.sparkline(r["node"], hoa, r["coa"], t),
        ))
    return lines


def message_matches(m: dict[str, Any], text: str) -> bool:
    bids = [b["bid"] for b in m["bids"]] + [b["coa"] for b in m["bids"]]
    return _matches(text.lower(), m["type"], m.get("hoa"), m.get("src"), m.get("dst"), *bids)


def messages_until(data: ViewData, t: float, text: str = "", limit: int = MAX_LISTED) -> list[dict[str, Any]]:
    """The last ``limit`` messages at or before t that match the filter."""
    end = bisect.bisect_right(data.message_times(), t)
    out: list[dict[str, Any]] = []
    for m in reversed(data.messages[:end]):
        if message_matches(m, text):
            out.append(m)
            if len(out) >= limit:
                break
    out.reverse()
    return out


def findings_until(data: ViewData, t: float, text: str = "", limit: int = MAX_LISTED) -> list[dict[str, Any]]:
    text = text.lower()
    rows = [f for f in data.findings if (f.get("time") is None or f["time"] <= t)
            and _matches(text, f["rule"], f.get("hoa"), f.get("bid"), f["message"], f["section"])]
    return rows[-limit:]


def step_time(data: ViewData, t: float, direction: int) -> float:
    """The previous (-1) or next (+1) event instant from t; t itself when there is none."""
    times = data.event_times()
    if direction > 0:
        i = bisect.bisect_right(times, t)
        return times[i] if i < len(times) else t
    i = bisect.bisect_left(times, t) - 1
    return times[i] if i >= 0 else t


def hexdump(data: bytes, width: int = 16) -> list[str]:
    """Offset, hex bytes and printable ASCII ('.' for anything else), like Wireshark's bytes pane."""
    lines = []
    for offset in range(0, len(data), width):
        chunk = data[offset:offset + width]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in chunk)
        lines.append(f"{offset:04x}  {hexes:<{width * 3 - 1}}  {text}")
    return lines
