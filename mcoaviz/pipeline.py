"""The only place the stages meet: source -> dissector -> engine -> checker -> Analysis.

``analyse(path, options)`` reads a whole capture and returns an ``Analysis`` (plain data: what
``mcoaviz export`` writes and ``mcoaviz analyse`` prints). ``Pipeline`` is the streaming form
for a live view: ``feed_frame`` frames as they arrive, ``snapshot()`` whenever, ``finish()`` at
the end.

Ordering guarantees the engine relies on:
* every frame goes first to ``FastPath.offer``; frames it declines are decoded by
  ``decode_frame``. The fast path's rows are flushed to the engine *before* each slow-path
  record and at the end, so each ``TrafficCount`` row lies between two signalling records;
* with ``--dialect auto`` the dialect is decided per (mobile node, peer) pair
  (``PairDialects``, interpretation I-1). A Mobility Header message waits, with everything
  after it (in order, rows included), until its pair is decided; the held records are re-read
  in their pair's dialect (``with_dialect``) and released from the front. When ``hold_limit``
  messages or ``hold_items`` records are held, or the front one waited ``hold_seconds`` of
  capture time, or input ends, the pair at the front falls back
  (capture-wide evidence, then its own weak evidence) so memory stays bounded.
"""

from __future__ import annotations

import dataclasses
import gc
import mmap
import operator
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from dissector.capture import RawRecord, problem_kind, record_to_frame
from dissector.capture.limits import MAX_PROBLEM_KINDS
from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions, decode_frame
from dissector.dialect import with_dialect
from dissector.dialect_pairs import Pair, PairDialects
from dissector.fastpath import FastPath
from dissector.fastpath import accelerated as fast_accelerated
from dissector.fragments import Reassembler
from dissector.records import Frame, Interface, Packet, Problem, TrafficCount

if TYPE_CHECKING:  # the checker and the engine are imported when a pipeline runs them (`decode` does not)
    from mcoaviz.checker import Checker
    from mcoaviz.engine.engine import BindingEngine, EngineConfig
    from mcoaviz.engine.events import Event
    from mcoaviz.timings import LatencyFold

MAX_PROBLEMS = 10_000  # keep memory bounded on a capture full of broken packets
_LAST = operator.attrgetter("last")


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    dialect: str = "auto"  # "auto" | "rfc5648" | "draft05"
    bid_type: int = 35
    engine: EngineConfig | None = None  # None: the engine's defaults
    run_checker: bool = True
    hold_limit: int = 10_000  # signalling messages held at most while the dialect is undecided
    hold_items: int = 200_000  # held records of any kind (bounds memory on data-only captures)
    hold_seconds: float = 60.0  # capture seconds a message waits at most for its pair's evidence
    fast_path: bool = True
    udp_ports: frozenset[int] = frozenset({4191})
    run_engine: bool = True  # False: decode only (``mcoaviz decode``: packets to ``listener``)
    # whole-file export / analyse: message rows spooled to a temporary file (``RowSpool``) and
    # the final tables handed over in their compact form, not as lists of dicts
    stream: bool = False
    # the engine's event history: "all" (every event: views and questions that may read any
    # kind, e.g. the TUI, ``explain``, ``--at``) or "read" (only the kinds the checker's rules
    # read, ``Checker.kept_kinds``; the latencies table is made as the events arrive,
    # ``LatencyFold``, and what else the export needs of the rest is folded as they arrive).
    # Same tables and findings; less memory.
    history: str = "all"


@dataclass
class Analysis:
    """Everything one run concluded, as plain data (the export contract's tables)."""

    capture: dict[str, Any]
    messages: Sequence[dict[str, Any]]  # a RowSpool (on disk) with ``AnalysisOptions.stream``
    bindings: Sequence[dict[str, Any]]  # RowView with ``stream``
    bul: Sequence[dict[str, Any]]
    traffic: Sequence[dict[str, Any]]  # RowView (made on demand) with ``stream``
    traffic_bins: Sequence[dict[str, Any]]
    findings: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    dialects: list[dict[str, Any]] = field(default_factory=list)  # one row per (MN, peer) pair
    events: list[Event] = field(default_factory=list, repr=False)
    # with ``history="read"``: the latencies table, made as the events came (none of them kept for it)
    latency_fold: LatencyFold | None = field(default=None, repr=False)
    checker_available: bool = False
    unreadable: str | None = None  # set when the input was not a capture at all
    stopped: str | None = None  # reading stopped at a fatal problem (corrupt block): results are partial

    TABLES = ("messages", "bindings", "bul", "traffic", "traffic_bins", "findings", "problems", "dialects")

    def to_dict(self) -> dict[str, Any]:
        """Every table as a list of dicts (a streamed analysis's spooled and lazy tables are read
        into memory here: the exporter writes them from ``mcoaviz.export.tables`` instead)."""
        out: dict[str, Any] = {"capture": self.capture}
        for name in self.TABLES:
            rows = getattr(self, name)
            out[name] = rows if isinstance(rows, list) else list(rows)
        return out


def decode_whole(frame: Frame, options: DecodeOptions, reassembler: Reassembler) -> Packet | None:
    """The decoded frame; for an IPv6 fragment, the whole datagram once complete, else None."""
    packet = decode_frame(frame, options)
    if not packet.fragment or not reassembler.is_fragment(frame):  # IPv4 fragments stay as they are
        return packet
    whole = reassembler.offer(frame)
    return None if whole is None else decode_frame(whole, options)


class Pipeline:
    """Streaming analysis: frames in, state queries at any time."""

    def __init__(self, options: AnalysisOptions | None = None, name: str | None = None) -> None:
        self.options = options or AnalysisOptions()
        self.name = name
        self.frames = 0
        self.first_time: float | None = None
        self.last_time: float | None = None
        self.interfaces: dict[int, Interface] = {}
        self.problems: list[dict[str, Any]] = []
        self.problem_count = 0
        self.problem_kinds: dict[str, int] = {}  # problem_kind -> count, every problem (kept or not)
        # the capture-wide decision: a pair's fallback, and what the summary shows first
        self.dialect: Dialect | None = None
        self.dialect_reason = ""
        forced = None if self.options.dialect == "auto" else Dialect(self.options.dialect)
        if forced is not None:
            self.dialect, self.dialect_reason = forced, "set by --dialect"
        self.pairs = PairDialects(self.options.bid_type, forced)
        self.checker: Checker | None = self._make_checker()
        # history="read": the engine keeps the event kinds that are read; the latencies table is
        # made here as events arrive
        self.latency_fold: LatencyFold | None = None
        if self.options.history not in ("all", "read"):
            raise ValueError(f"history must be 'all' or 'read', not {self.options.history!r}")
        # decode (run_engine off) never builds or imports the engine: ~50 ms of start-up
        self._engine: BindingEngine | None = self._make_engine() if self.options.run_engine else None
        self._held: deque[tuple[Packet, Pair | None] | list[TrafficCount]] = deque()
        self._held_packets = 0  # Mobility Header messages among the held records
        # repeats: a refresh BU/BA equal to an earlier frame but for Sequence and Checksum is made
        # from that one's records (dissector.decode._REPEATS, bounded). Its path and options are
        # then the earlier packet's objects, which the message spool's text cache keys on
        # (``message_json(shared_areas=True)``): ~1 s of a 1 M packet export, ~10-30 MB bounded.
        self._decode = DecodeOptions(dialect=forced or Dialect.RFC5648,
                                     bid_type=self.options.bid_type, udp_ports=self.options.udp_ports,
                                     repeats=True)
        self._fast = FastPath(self._decode) if self.options.fast_path else None
        if self._fast is not None and not self.options.run_engine:
            self._fast.count_only = True  # no engine to hand traffic rows to
        if self._fast is not None:  # flush during long runs of bulk data too (FastPath.tick)
            self._fast.tick = self._flush_rows
        self._returned_version = 0  # the checker's returned_version the fast path was last aimed at
        self._finished = False
        self.format: str | None = None  # "pcap" | "pcapng" once known
        self.unreadable: str | None = None  # why the input is not a capture at all
        self.collector: StepwiseCollector | None = None  # set by ``analyse`` for a whole file
        self._walked = 0  # bytes of a file walked so far, as last seen (``position``)
        self._slow_records = 0
        # IPv6 fragments wait here; the datagram is decoded when whole (numbered like the frame
        # that completes it, as in Wireshark). Analysis and ``decode`` see the same packets.
        self.reassembler = Reassembler()
        # called with every slow-path packet, in capture order, once the dialect is decided
        # (re-read in it): what ``mcoaviz decode`` prints
        self.listener: Callable[[Packet], None] | None = None
        # called with every frame the fast path declines (those that may carry a message), on
        # both paths: a live view keeps recent message bytes from it (``mcoaviz.tui.session``)
        self.frame_listener: Callable[[Frame], None] | None = None

    # ------------------------------------------------------------------ input
    def feed_frame(self, frame: Frame) -> list[Event]:
        self.frames += 1
        self._saw(frame.time, frame.time)
        if self._fast is not None and self._fast.offer(frame):
            return []
        if self.frame_listener is not None:
            self.frame_listener(frame)
        events = self._flush_rows()
        packet = self._decode_whole(frame)
        return events if packet is None else events + self._slow(packet)

    def feed_frames(self, frames: Iterable[Frame]) -> None:
        for frame in frames:
            self.feed_frame(frame)

    def feed_records(self, records: Iterable[RawRecord]) -> None:
        """Raw records (``CaptureSource.records()``): the bulk path. The fast path counts data
        in one tight loop and hands over only the records it declines, in order; its rows are
        flushed before each of them, so traffic stays between the signalling records."""
        fast = self._fast
        if fast is None:
            self.feed_frames(record_to_frame(r) for r in records)
            return
        counted_before, slow = fast.accepted, 0
        steps = self.collector
        try:
            # a walk the C accelerator takes releases its pages itself (dissector.fastpath)
            accelerate = fast_accelerated() and hasattr(records, "accelerate")
            for record in fast.filter(records if accelerate else _release_pages(records, self)):
                frame = record_to_frame(record)
                slow += 1
                self._walked = record[5]
                self._slow_records = slow
                if steps is not None and slow & (GC_CHECK - 1) == 0:
                    steps.maybe_step()
                self._saw(frame.time, frame.time)
                if self.frame_listener is not None:
                    self.frame_listener(frame)
                self._flush_rows()
                packet = self._decode_whole(frame)
                if packet is not None:
                    self._slow(packet)
        finally:
            self.frames += slow + fast.accepted - counted_before

    def flush(self) -> list[Event]:
        """Hand the data counted so far to the engine now. The bulk path otherwise holds it
        until the next record it declines (or ``finish``): a live view calls this after each
        chunk so that time, traffic and expiries move on while only data arrives."""
        return self._flush_rows()

    @property
    def position(self) -> int:
        """Bytes of the capture file walked so far (approximate; for progress displays)."""
        return max(self._walked, self._fast.position if self._fast is not None else 0)

    @property
    def packets_so_far(self) -> int:
        """Frames read so far (approximate while a file is walked; for progress displays)."""
        fast = self._fast.accepted if self._fast is not None else 0
        return max(self.frames, fast + self._slow_records)

    def _decode_whole(self, frame: Frame) -> Packet | None:
        return decode_whole(frame, self._decode, self.reassembler)

    def _saw(self, first: float, last: float) -> None:
        self.first_time = first if self.first_time is None else min(self.first_time, first)
        self.last_time = last if self.last_time is None else max(self.last_time, last)

    def add_problems(self, problems: Iterable[Problem], frame: int | None = None) -> None:
        for p in problems:
            self.problem_count += 1
            self._count_kind(problem_kind(p))
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append({"frame": frame, "layer": p.layer, "offset": p.offset,
                                      "reason": p.reason, "severity": p.severity})

    def _count_kind(self, kind: str, count: int = 1) -> None:
        kinds = self.problem_kinds
        if kind not in kinds and len(kinds) >= MAX_PROBLEM_KINDS:
            kind = "other"
        kinds[kind] = kinds.get(kind, 0) + count

    def _slow(self, packet: Packet) -> list[Event]:
        if packet.problems:
            self.add_problems(packet.problems, packet.frame)
        pair = self.pairs.observe(packet)
        if self.dialect is None and self.pairs.capture_dialect is not None:
            self.dialect, self.dialect_reason = self.pairs.capture_dialect, self.pairs.capture_reason
        if not self._held and (pair is None or self.pairs.dialect_of(pair) is not None):
            return self._release(packet, pair)
        self._held.append((packet, pair))
        if packet.mobility is not None:
            self._held_packets += 1
        return self._drain()

    def _drain(self, everything: bool = False) -> list[Event]:
        """Release held records from the front while their pair is decided; a pair blocking the
        front falls back when the hold limits are reached (or ``everything``: end of input)."""
        events: list[Event] = []
        held, options, pairs = self._held, self.options, self.pairs
        while held:
            item = held[0]
            if not isinstance(item, list):
                pair = item[1]
                if pair is not None and pairs.dialect_of(pair) is None:
                    waited = (self.last_time or 0.0) - item[0].time
                    if not (everything or self._held_packets >= options.hold_limit
                            or len(held) >= options.hold_items or waited > options.hold_seconds):
                        break
                    pairs.fall_back(pair)
                    if not everything:
                        state = pairs.pairs[pair]
                        state.reason += (f" (decided after holding {self._held_packets} messages, "
                                         f"{waited:.0f} s)")
            held.popleft()
            if isinstance(item, list):
                events += self._rows_to_engine(item)
                continue
            if item[0].mobility is not None:
                self._held_packets -= 1
            events += self._release(*item)
        return events

    @property
    def holding(self) -> bool:
        """Records are held for an undecided (MN, peer) pair: they reach the engine late."""
        return bool(self._held)

    def dialect_for(self, packet: Packet) -> Dialect:
        """The dialect ``packet`` is read in: its (MN, peer) pair's, else the capture's, else RFC."""
        return self.pairs.dialect_of(self.pairs.pair_of(packet)) or self.dialect or Dialect.RFC5648

    def _release(self, packet: Packet, pair: Pair | None) -> list[Event]:
        dialect = self.pairs.dialect_of(pair)
        if dialect is None:  # no pair: BID options (if any) read as the capture's
            dialect = self.dialect or Dialect.RFC5648
        if packet.mobility is not None and dialect is not self._decode.dialect:
            packet = with_dialect(packet, dialect)
        return self._to_engine(packet, dialect)

    @property
    def decode_options(self) -> DecodeOptions:
        """How frames are decoded (in the capture's dialect once it is decided)."""
        return self._decode

    def _flush_rows(self) -> list[Event]:
        if self._fast is None:
            return []
        rows = self._fast.flush()
        if not rows:
            if self._fast.span is not None:  # count_only: no rows, but time moved on
                self._saw(*self._fast.span)
            return []
        self._saw(rows[0].first, max(map(_LAST, rows)))
        if self._held:
            self._held.append(rows)
            return []
        return self._rows_to_engine(rows)

    def _to_engine(self, packet: Packet, dialect: Dialect) -> list[Event]:
        if self.listener is not None:
            self.listener(packet)
        if not self.options.run_engine:
            return []
        events = self.engine.feed(packet)
        if self.latency_fold is not None and events:
            self.latency_fold.observe(events)
        if self.checker is not None:
            self.checker.observe(packet, events, dialect)
            if self.checker.returned_version != self._returned_version:
                self._aim_fast_path()
        return events

    def _rows_to_engine(self, rows: list[TrafficCount]) -> list[Event]:
        if not self.options.run_engine:
            return []
        events = self.engine.feed_traffic(rows)
        if self.latency_fold is not None and events:
            self.latency_fold.observe(events)
        if self.checker is not None:
            self.checker.observe_traffic(rows, events)
            if self.checker.returned_version != self._returned_version:
                self._aim_fast_path()
        return events

    def _aim_fast_path(self) -> None:
        """After MCOA RETURNHOME WO/NDP the home-link rules (MCOA420/421) need the link-layer
        addresses of the home address's data frames, which only decoded packets carry: the fast
        path hands those frames over while the checker watches the address."""
        assert self.checker is not None
        self._returned_version = self.checker.returned_version
        if self._fast is not None:
            self._fast.watch(self.checker.returned_home)

    # ------------------------------------------------------------------ output
    def finish(self, interfaces: dict[int, Interface] | None = None,
               capture_problems: Iterable[Problem] = (), capture_format: str | None = None) -> Analysis:
        """End of input: release held records, flush rows, close the engine and the checker."""
        if capture_format is not None:
            self.format = capture_format
        # a ProblemLog (the capture parser's) kept only the first problems: count the rest by kind
        dropped_kinds = dict(getattr(capture_problems, "counts", {}))
        capture_problems = list(capture_problems)
        for p in capture_problems:
            kind = problem_kind(p)
            if dropped_kinds and kind not in dropped_kinds:  # the log counted it under "other"
                kind = "other"
            dropped_kinds[kind] = dropped_kinds.get(kind, 0) - 1
        # nothing readable: no header, or input that ends inside it (pcap and pcapng alike)
        if self.frames == 0 and capture_problems and (
                self.format is None or capture_problems[0].layer == "capture"):
            self.unreadable = capture_problems[0].reason
        if interfaces is not None:
            self.interfaces = dict(interfaces)
        self.add_problems(capture_problems)
        for kind, count in dropped_kinds.items():
            if count > 0:
                self.problem_count += count
                self._count_kind(kind, count)
        if not self._finished:
            self._finished = True
            self._flush_rows()
            if self.dialect is None:
                self.dialect, self.dialect_reason = self.pairs.capture.final()
            self._drain(everything=True)
            if self.checker is not None:
                self.checker.config = dataclasses.replace(self.checker.config, dialect=self.dialect)
            end = self.last_time if self.last_time is not None else 0.0
            events = self.engine.finish(end) if self._engine is not None else []
            if self.latency_fold is not None:
                if events:
                    self.latency_fold.observe(events)
                self.latency_fold.close()
            if self.checker is not None and events:
                self.checker.observe_traffic([], events)
        return self.snapshot(final=True)

    def snapshot(self, final: bool = False) -> Analysis:
        """The analysis so far (bindings still open show ``end`` None)."""
        if self._engine is None:  # decode: no engine ran, so no tables (and no engine imported)
            return Analysis(capture=self.capture_info(), messages=[], bindings=[], bul=[], traffic=[],
                            traffic_bins=[], findings=[], problems=list(self.problems),
                            dialects=self.pairs.rows(), unreadable=self.unreadable)
        from mcoaviz.rowspool import RowView

        findings: list[dict[str, Any]] = []
        if final and self.checker is not None:
            findings = [f.to_dict() for f in self.checker.finish(self.engine)]
        engine = self.engine
        table = engine.traffic_table
        lazy = final and self.options.stream  # the finished engine's tables, rows made on demand
        return Analysis(
            capture=self.capture_info(),
            messages=engine.message_rows() if final else engine.messages(),
            # (retired rows of a whole-file run read back from their spools)
            bindings=(RowView(engine.binding_rows, engine.binding_count) if lazy
                      else list(engine.binding_rows())),
            bul=RowView(engine.bul_rows, engine.bul_count) if lazy else list(engine.bul_rows()),
            # (a table with idle keys on file counts its rows in a pass over the file)
            traffic=(RowView(table.iter_rows, lambda: table.key_count, source=table) if lazy
                     else engine.traffic()),
            # (counted when asked: a table with spilled bins counts them in a pass over its file)
            traffic_bins=(RowView(table.iter_bin_rows, lambda: table.bin_count, source=table) if lazy
                          else engine.traffic_bins()),
            findings=findings,
            problems=list(self.problems),
            dialects=self.pairs.rows(),
            events=self.engine.events,
            latency_fold=self.latency_fold,
            checker_available=self.checker is not None,
            unreadable=self.unreadable,
        )

    def capture_info(self) -> dict[str, Any]:
        table = self._engine.traffic_table if self._engine is not None else None
        return {
            "file": self.name,
            "format": self.format,
            "frames": self.frames,
            "interfaces": [{"id": i.id, "name": i.name, "linktype": i.linktype}
                           for i in sorted(self.interfaces.values(), key=lambda i: i.id)],
            "dialect": self.dialect.value if self.dialect else None,
            "dialect_reason": self.dialect_reason,
            "first_time": self.first_time,
            "last_time": self.last_time,
            "problem_count": self.problem_count,
            "problem_kinds": dict(self.problem_kinds),
            "unattributed_packets": table.unattributed_packets if table is not None else 0,
            # seconds per traffic_bins row (None: no engine ran, nothing was binned)
            "traffic_bin_width": table.width if table is not None else None,
        }

    @property
    def engine(self) -> BindingEngine:
        """The binding engine (made on first use when the pipeline does not run it: ``decode``)."""
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def _make_engine(self) -> BindingEngine:
        from mcoaviz.engine.engine import BindingEngine, EngineConfig
        from mcoaviz.rowspool import RowSpool

        config = self.options.engine or EngineConfig()
        if self.options.history == "read" and self.options.run_engine:
            # the engine keeps the event kinds the rules read; the latencies table is made as
            # events arrive
            from mcoaviz.timings import LatencyFold

            self.latency_fold = LatencyFold()
            kinds = self.checker.kept_kinds if self.checker else frozenset()
            # sightings: the rules' kinds
            seen: frozenset[str] = frozenset()
            if self.checker is not None:
                from mcoaviz.checker.registry import SEEN_KINDS

                seen |= SEEN_KINDS
            config = dataclasses.replace(config, keep_kinds=kinds, keep_seen=seen)
            if self.checker is not None:  # it reads the engine's list in finish: no copy of its own
                self.checker.keep_events = False
        # a whole-file export keeps message rows in a temporary file (mcoaviz.rowspool), not as dicts
        return BindingEngine(config, RowSpool() if self.options.stream else None)

    def _make_checker(self) -> Checker | None:
        """The checker (each packet comes with its pair's dialect); None with run_checker off."""
        if not self.options.run_checker:
            return None
        from mcoaviz.checker import Checker
        from mcoaviz.checker.context import CheckerConfig

        # a whole-file command that keeps only the history its rules read also runs the rules
        # that judge one answer as each arrives (``Checker.streaming``)
        return Checker(CheckerConfig(dialect=self.dialect or Dialect.RFC5648),
                       streaming=self.options.history == "read")


GC_CHECK = 1 << 8  # slow-path records between two looks at the young generation (StepwiseCollector)
GC_YOUNG_LIMIT = 1 << 20  # tracked objects allocated (net) that make the next look a collection


class StepwiseCollector:
    """The cyclic garbage collector in steps while a whole capture is analysed.

    The analysis keeps millions of long-lived objects (rows, events, messages) and makes few
    reference cycles; Python's automatic collections would scan the long-lived ones again and
    again (a third of the run time on a home agent's capture). Here the automatic collector is
    off; once ``GC_YOUNG_LIMIT`` tracked objects have been allocated (net) since the last step,
    the young generations are collected (garbage cycles, e.g. from caught exceptions, are freed)
    and the survivors are frozen (never scanned again). Leaving restores the collector as it was.

    A step costs one visit per object allocated since the last one, however often it runs
    (benchmarks/README.md): stepping by allocation count bounds what may wait for it (in
    objects, whatever a record allocates) and saves the visits after the last step."""

    def __init__(self, young_limit: int = GC_YOUNG_LIMIT) -> None:
        self.young_limit = young_limit
        self.steps = 0

    def __enter__(self) -> StepwiseCollector:
        self._was_enabled = gc.isenabled()
        gc.disable()
        return self

    def maybe_step(self) -> None:
        """``step`` once the young generation holds ``young_limit`` objects."""
        if gc.get_count()[0] >= self.young_limit:
            self.step()

    def step(self) -> None:
        gc.collect(1)
        gc.freeze()
        self.steps += 1

    def __exit__(self, *exc: object) -> None:
        # the objects allocated since the last step join the frozen ones unvisited: re-enabled
        # with them still young, the collector's next look would visit every one of them (0.8 s
        # of a 1 M packet export that never reached a step). Cycles among them are freed by the
        # next full collection instead.
        gc.freeze()
        gc.unfreeze()
        if self._was_enabled:
            gc.enable()


RELEASE_EVERY = 1 << 16  # records between checks
RELEASE_BYTES = 32 << 20  # drop a memory-mapped capture's pages behind us in steps of this


def _release_pages(records: Iterable[RawRecord], pipeline: Pipeline | None = None) -> Iterator[RawRecord]:
    """Pass records through, telling the kernel every so often that the memory-mapped file
    pages already read will not be needed again. Without this a mapped capture stays resident
    and the process's RSS grows with the file (the pages are file-backed and reclaimable, but
    they count). Frames kept for later are copies, so nothing still refers to those pages."""
    count = 0
    released = 0
    for record in records:
        count += 1
        if count & (RELEASE_EVERY - 1) == 0:
            buf, offset = record[4], record[5]
            if pipeline is not None:
                pipeline._walked = offset
            if isinstance(buf, mmap.mmap) and offset - released > RELEASE_BYTES:
                end = offset - offset % mmap.PAGESIZE
                try:
                    buf.madvise(mmap.MADV_DONTNEED, released, end - released)
                    released = end
                except (AttributeError, OSError, ValueError):  # platform without madvise
                    pass
        yield record


class Progress(Protocol):
    """Something that shows how far a file has been read (``mcoaviz.cli.progress.ProgressBar``)."""

    def start(self, pipeline: Pipeline, total: int) -> None: ...
    def stop(self) -> None: ...


def analyse(source: str | os.PathLike[str], options: AnalysisOptions | None = None,
            progress: Progress | None = None) -> Analysis:
    """Analyse a whole capture file (or ``-`` for stdin). Raises CaptureSourceError on bad input."""
    from mcoaviz.dataframes import resolve_data_frames
    from mcoaviz.sources import open_capture

    pipeline = Pipeline(options, name=os.fspath(source))
    with open_capture(source) as capture, StepwiseCollector() as collector:
        pipeline.collector = collector
        analysis = run_pipeline(pipeline, capture, progress)
        seekable = capture.seekable_file
    if seekable and resolve_data_frames(source, analysis.findings, pipeline.decode_options):
        # findings whose data the fast path counted now have frames: keep the frame order
        from mcoaviz.checker.finding import SEVERITY_RANK

        analysis.findings.sort(key=lambda f: (f["frame"] is None, f["frame"] or 0,
                                              -SEVERITY_RANK.get(f["severity"], 0), f["rule"]))
    return analysis


def run_pipeline(pipeline: Pipeline, capture: Any, progress: Progress | None = None) -> Analysis:
    """Feed an open ``CaptureSource`` through ``pipeline`` (records for files, frames for pipes)."""
    if progress is not None and capture.size is not None:
        progress.start(pipeline, capture.size)
    try:
        if capture.seekable_file:
            pipeline.feed_records(capture.records())
        else:
            pipeline.feed_frames(capture.frames())
    finally:
        if progress is not None:
            progress.stop()
    analysis = pipeline.finish(capture.interfaces, capture.problems, capture.format)
    fatal = capture.parser.fatal
    if fatal is not None and not analysis.unreadable:
        analysis.stopped = f"reading stopped at byte {fatal.offset}: {fatal.reason}"
    return analysis
