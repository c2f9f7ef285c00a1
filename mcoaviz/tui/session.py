"""One analysis shared by an ingest thread and the UI: a Pipeline behind a lock.

The ingest thread feeds raw records in chunks (``feed_records``, the pipeline's bulk path) or
frames (``feed``); the UI asks for a ``ViewData`` copy (``view``) and for a message's decoded
packet and bytes (``packet``). The engine is never read while it is being written. Frame bytes
are not part of the analysis, so the session keeps the bytes of Mobility Header frames itself,
bounded: a ring of the recent frames the fast path declined (a message's frame is known only
once the engine reports it, which with ``--dialect auto`` can be a while) and the newest
message frames.

A live session bounds memory for a 24 h run: the engine keeps ``LIVE_RETAIN`` seconds of
capture time of history (``EngineConfig.retain``; older messages, events and ended rows are
counted, not kept), the checker forgets what lies before the same cut, and the findings found
so far are accumulated here (the newest ``MAX_LIVE_FINDINGS``).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from dissector.capture import RawRecord
from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions, decode_frame
from dissector.dialect import with_dialect
from dissector.records import Frame, Interface, Packet
from mcoaviz.checker import Finding
from mcoaviz.engine.engine import EngineConfig
from mcoaviz.pipeline import Analysis, AnalysisOptions, Pipeline
from mcoaviz.tui.model import ViewData, view_of_analysis

BATCH_FRAMES = 512  # frames fed per lock hold (the UI waits at most one batch: ~20 ms)
RING_FRAMES = 4096  # recent frames kept until the engine says which carried a message
RING_FRAMES_UNDECIDED = 65_536  # while a pair's dialect is undecided messages are reported late
LIVE_RETAIN = 900.0  # live: capture seconds of history the engine and checker keep
MAX_LIVE_FINDINGS = 5000  # live: newest findings kept (older ones counted)
RING_BYTES = 32 << 20
MAX_KEPT_MESSAGES = 5000  # message frames whose bytes stay available for the detail pane
MAX_KEPT_OFFLINE = 100_000  # the same for a capture file (read once more at the end to get them)
LIVE_MESSAGES = 20_000  # newest messages a live view holds; older ones are only counted
LIVE_BIN_SECONDS = 900  # live: per-second traffic bins older than this are folded into one
AGE_EVERY = 60.0  # live: capture seconds between foldings of old bins in the engine
UI_LOCK_WAIT = 0.05  # seconds the UI waits for the ingest thread before keeping what it shows
TRAFFIC_EVERY = 1.0  # seconds a HoA's traffic bins are reused before they are read again
FINDINGS_EVERY = 5.0  # seconds between runs of the checker's history rules (they reread all events)
FLUSH_EVERY = 0.25  # live: wall seconds between hand-overs of counted data to the engine
FINDINGS_SHARE = 0.05  # ... and at least 1/share times their last run's duration (ingest comes first)


class Session:
    def __init__(self, options: AnalysisOptions | None = None, name: str | None = None,
                 live: bool = False, retain: float | None = LIVE_RETAIN) -> None:
        """``retain``: live, the capture seconds of history kept (None: all of it)."""
        self.options = options or AnalysisOptions()
        engine = self.options.engine or EngineConfig()
        if live and retain is not None and engine.retain is None:
            engine = dataclasses.replace(engine, retain=retain)
            self.options = dataclasses.replace(self.options, engine=engine)
        self.pipeline = Pipeline(self.options, name=name)
        self.pipeline.frame_listener = self._remember
        self._message_total = 0  # engine messages whose frames have been looked up (``_keep_new``)
        self.name = name
        self.live = live
        self.lock = threading.Lock()
        self._ring: OrderedDict[int, Frame] = OrderedDict()
        self._ring_bytes = 0
        self._kept: OrderedDict[int, Frame] = OrderedDict()
        self.final: Analysis | None = None
        self.done = False
        self.error: str | None = None  # why ingest stopped early (shown on screen)
        self.status = ""  # one line about the source (dumpcap state), shown on screen
        self.bytes_read = 0
        self.total_bytes: int | None = None  # offline file size, for the progress indicator
        self._findings: list[dict[str, Any]] = []
        self._live_findings: dict[str, Finding] = {}  # live: by identifier, oldest first
        self.findings_aged = 0  # live: findings dropped beyond MAX_LIVE_FINDINGS
        self._checker_cut: float | None = None
        self.interfaces: dict[int, Interface] = {}  # the parser's table, filled as blocks arrive
        self._findings_at = 0.0
        self._findings_every = FINDINGS_EVERY
        self._flushed_at = 0.0
        self._aged_at = 0.0  # capture time of the last folding of old traffic bins
        self._final_view: ViewData | None = None
        self._traffic_cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self.version = 0  # bumps whenever the analysis changes (the UI redraws only then)

    # ------------------------------------------------------------------ ingest thread
    def feed(self, frames: Iterable[Frame]) -> int:
        """Feed frames in batches under the lock; returns how many were fed."""
        count = 0
        batch: list[Frame] = []
        for frame in frames:
            batch.append(frame)
            if len(batch) >= BATCH_FRAMES:
                self.feed_batch(batch)
                count += len(batch)
                batch = []
        if batch:
            self.feed_batch(batch)
            count += len(batch)
        return count

    def feed_batch(self, batch: list[Frame]) -> None:
        """Frames into the pipeline under the lock; message frames' bytes are kept."""
        if not batch:
            return
        with self.lock:
            self._feed_locked(batch)

    def _feed_locked(self, batch: list[Frame]) -> None:
        pipeline = self.pipeline
        for frame in batch:
            pipeline.feed_frame(frame)
        self._keep_new()
        self._after_feed()

    def feed_records(self, records: Iterable[RawRecord]) -> None:
        """Raw records (a chunk of a file, or what has arrived from dumpcap: a ``RecordWalk``)
        through the pipeline's bulk path, several times faster than frame by frame."""
        with self.lock:
            self.pipeline.feed_records(records)
            if self.live and time.monotonic() - self._flushed_at >= FLUSH_EVERY:
                # rows per active flow: every chunk would double the engine's work at 50 000/s
                self.pipeline.flush()
                self._flushed_at = time.monotonic()
            self._keep_new()
            self._after_feed()

    def flush(self) -> None:
        """Counted data to the engine now (a live stream that ended or paused)."""
        with self.lock:
            self.pipeline.flush()
            self._flushed_at = time.monotonic()
            self.version += 1

    def _keep_new(self) -> None:
        """Keep the bytes of the messages the engine reported since the last look."""
        engine = self.pipeline.engine
        total = engine.message_total
        if total != self._message_total:
            for row in engine.messages_after(self._message_total):
                self._keep(row["frame"])
            self._message_total = total

    def keep_message_frames(self, frames: dict[int, Frame]) -> None:
        with self.lock:
            for number in sorted(frames):
                self._kept[number] = frames[number]
            while len(self._kept) > MAX_KEPT_OFFLINE:
                self._kept.popitem(last=False)

    def message_frame_numbers(self) -> set[int]:
        """Frames of the newest MAX_KEPT_OFFLINE messages whose bytes are not kept yet (the
        ring missed them: reported long after they came, ``--dialect auto``)."""
        with self.lock:
            rows = self.final.messages if self.final is not None else self.pipeline.engine.messages()
            return {m["frame"] for m in rows[-MAX_KEPT_OFFLINE:]} - set(self._kept)

    def _after_feed(self) -> None:
        pipeline = self.pipeline
        self.version += 1
        now = time.monotonic()
        newest = pipeline.last_time
        if self.live and newest is not None and newest - self._aged_at >= AGE_EVERY:
            # by capture time, so that a replay faster than real time is bounded the same way
            self._aged_at = newest
            pipeline.engine.traffic_table.fold_before(int(newest) - LIVE_BIN_SECONDS)
        cut = pipeline.engine.aged_before
        if pipeline.checker is not None and cut is not None and cut != self._checker_cut:
            # the checker forgets with the engine (its history is as long); its rules run by the
            # wall clock below: in a replay much faster than real time, events that age out
            # between two runs are not judged (live, every event sees several runs)
            pipeline.checker.forget_before(cut)
            self._checker_cut = cut
        if pipeline.checker is not None and now - self._findings_at >= self._findings_every:
            # here, in the ingest thread: the history rules reread the events they keep
            self._update_findings()
            self._findings_at = time.monotonic()
            self._findings_every = max(FINDINGS_EVERY, (self._findings_at - now) / FINDINGS_SHARE)

    def _update_findings(self) -> None:
        checker, engine = self.pipeline.checker, self.pipeline.engine
        assert checker is not None
        if not self.live:
            self._findings = [f.to_dict() for f in checker.finish(engine)]
            return
        cut = self._checker_cut  # the history rules read the retained window only
        # A finding first seen in the older half of the window may be an artefact of the
        # history cut off before it (its context aged out): only findings that are new while
        # their context is whole are taken; known ones are updated (episode counts grow).
        fresh = None if cut is None else cut + (engine.config.retain or 0.0) / 2
        found = self._live_findings
        for f in checker.finish(engine):
            if f.identifier in found or fresh is None or f.time is None or f.time >= fresh:
                found[f.identifier] = f
        while len(found) > MAX_LIVE_FINDINGS:
            del found[next(iter(found))]
            self.findings_aged += 1
        self._findings = sorted((f.to_dict() for f in found.values()),
                                key=lambda d: (d["time"] is None, d["time"] or 0.0))

    def _remember(self, frame: Frame) -> None:
        ring = self._ring
        ring[frame.number] = frame
        self._ring_bytes += len(frame.data)
        limit = RING_FRAMES_UNDECIDED if self.pipeline.holding else RING_FRAMES
        while len(ring) > limit or self._ring_bytes > RING_BYTES:
            _, old = ring.popitem(last=False)
            self._ring_bytes -= len(old.data)

    def _keep(self, number: int) -> None:
        frame = self._ring.get(number)
        if frame is None:
            return
        self._kept[number] = frame
        if len(self._kept) > (MAX_KEPT_MESSAGES if self.live else MAX_KEPT_OFFLINE):
            self._kept.popitem(last=False)

    def finish(self, interfaces: Any = None, problems: Iterable[Any] = (), fmt: str | None = None) -> None:
        with self.lock:
            self.final = self.pipeline.finish(interfaces, problems, fmt)
            self._keep_new()
            if self.live and self.pipeline.checker is not None:
                self._update_findings()
                self.final.findings = list(self._findings)
            self.done = True
            self.version += 1

    # ------------------------------------------------------------------ UI thread
    def view(self, wait: float = -1) -> ViewData | None:
        """A copy of the tables for drawing (cheap enough to take a few times a second); once
        the analysis is final the same ViewData (and its indexes) is returned every time.
        With ``wait`` >= 0, None when the ingest thread holds the lock longer than that (the UI
        then keeps what it shows rather than freeze while the checker reruns its rules)."""
        if self._final_view is not None:
            return self._final_view
        if not self.lock.acquire(timeout=wait):
            return None
        try:
            if self.final is not None:
                if self._final_view is None:
                    self._final_view = view_of_analysis(self.final)
                return self._final_view
            engine = self.pipeline.engine
            messages = engine.messages()
            dropped = max(0, len(messages) - LIVE_MESSAGES) if self.live else 0
            if dropped:
                messages = messages[dropped:]
            return ViewData(messages, [r.to_dict() for r in engine.bindings()], [], list(self._findings),
                            self.pipeline.first_time, self.pipeline.last_time,
                            messages_dropped=dropped + engine.messages_aged, traffic_of=self.traffic_of)
        finally:
            self.lock.release()

    def traffic_of(self, hoa: str) -> list[dict[str, Any]]:
        """Per-second traffic bins of one HoA (export ``traffic_bins`` rows), re-read at most
        every TRAFFIC_EVERY seconds. Live, the engine's bins older than LIVE_BIN_SECONDS are
        folded into one per key every AGE_EVERY seconds: totals stay right, memory bounded."""
        cached = self._traffic_cache.get(hoa)
        if cached is not None and time.monotonic() - cached[0] < TRAFFIC_EVERY:
            return cached[1]
        rows = self._read_traffic(hoa)
        if rows is None:  # the ingest thread is busy: last reading, if any
            return cached[1] if cached is not None else []
        self._traffic_cache[hoa] = (time.monotonic(), rows)
        return rows

    def _read_traffic(self, hoa: str) -> list[dict[str, Any]] | None:
        if not self.lock.acquire(timeout=UI_LOCK_WAIT):
            return None
        try:
            table = getattr(self.pipeline.engine.traffic_table, "bins", None)
            if not isinstance(table, dict):  # not the layout read below: take the public rows
                return [r for r in self.pipeline.engine.traffic_bins() if r["hoa"] == hoa]
            rows = []
            for key, seconds in table.items():
                if key[2] != hoa:
                    continue
                interface, node, _hoa, coa, bid, direction, via = key
                for second, (packets, nbytes) in list(seconds.items()):
                    rows.append({"interface": interface, "node": node, "hoa": hoa, "coa": coa, "bid": bid,
                                 "direction": direction, "via": via, "second": second, "packets": packets,
                                 "bytes": nbytes})
        finally:
            self.lock.release()
        return rows

    def interface_name(self, interface: int) -> str | None:
        """The capture interface's name as the capture gives it (unescaped: views escape it)."""
        found = self.interfaces.get(interface)
        return found.name if found is not None else None

    def packet(self, number: int) -> tuple[Packet | None, bytes | None]:
        """The decoded message of frame ``number`` and its bytes, when they are still kept.

        Without the lock: the UI asks this on every redraw that moves the message cursor, and
        waiting out an ingest chunk (or a run of the history rules) froze the screen. Each read
        here is one atomic operation on a structure only the ingest thread changes."""
        frame = self._kept.get(number) or self._ring.get(number)
        if frame is None:
            return None, None
        options = DecodeOptions(dialect=Dialect.RFC5648, bid_type=self.options.bid_type,
                                udp_ports=self.options.udp_ports)
        packet = decode_frame(frame, options)
        dialect = self.pipeline.dialect_for(packet)  # its (MN, peer) pair's (I-1); lookups only
        return with_dialect(packet, dialect), frame.data

    def explanation(self, hoa: str, node: str, bid: int | None) -> list[str]:
        """How one binding was read, as ``mcoaviz explain`` prints it (the events so far)."""
        import ipaddress

        from mcoaviz.query import TimeFormat
        from mcoaviz.query.explain import render, stories

        with self.lock:
            events = list(self.pipeline.engine.events)
            first = self.pipeline.first_time
        found = [s for s in stories(events, (ipaddress.ip_network(hoa),), (bid,)) if s.node == node]
        if not found:
            return [f"{hoa} BID {bid if bid is not None else 'none'} at {node}: no step recorded"]
        return render(found[0], TimeFormat("relative", first).point)

    def analysis(self) -> Analysis:
        """The analysis so far (the final one once ingest is done), findings included: for export."""
        with self.lock:
            if self.final is not None:
                return self.final
            analysis = self.pipeline.snapshot(final=False)
            checker = self.pipeline.checker
            if checker is not None:
                if self.live:  # the window's rules plus what was found before it
                    self._update_findings()
                    analysis.findings = list(self._findings)
                else:
                    analysis.findings = [f.to_dict() for f in checker.finish(self.pipeline.engine)]
            return analysis

    @property
    def frames(self) -> int:
        return self.pipeline.frames
