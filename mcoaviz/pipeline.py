"""The only place the stages meet: source -> dissector -> engine -> checker -> Analysis.

``analyse(path, options)`` reads a whole capture and returns an ``Analysis`` (plain data: what
``mcoaviz export`` writes and ``mcoaviz analyse`` prints). ``Pipeline`` is the streaming form
for a live view: ``feed_frame`` frames as they arrive, ``snapshot()`` whenever, ``finish()`` at
the end.

Ordering guarantees the engine relies on:
* every frame goes first to ``FastPath.offer``; frames it declines are decoded by
  ``decode_frame``. The fast path's rows are flushed to the engine *before* each slow-path
  record and at the end, so each ``TrafficCount`` row lies between two signalling records;
* with ``--dialect auto`` records are held (in order, rows included) until the
  ``DialectDetector`` decides or ``hold_limit`` records are held or input ends; the held
  records are then re-read in the chosen dialect (``with_dialect``) and released.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from dissector.capture import RawRecord, record_to_frame
from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions, decode_frame
from dissector.dialect import DialectDetector, with_dialect
from dissector.fastpath import FastPath
from dissector.fastpath import accelerated as fast_accelerated
from dissector.records import Frame, Interface, Packet, Problem, TrafficCount
from mcoaviz.checker import Checker
from mcoaviz.checker.context import CheckerConfig
from mcoaviz.engine.engine import BindingEngine, EngineConfig
from mcoaviz.engine.events import Event

MAX_PROBLEMS = 10_000  # keep memory bounded on a capture full of broken packets


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    dialect: str = "auto"  # "auto" | "rfc5648" | "draft05"
    bid_type: int = 35
    engine: EngineConfig = field(default_factory=EngineConfig)
    run_checker: bool = True
    hold_limit: int = 10_000  # signalling messages held at most while the dialect is undecided
    hold_items: int = 200_000  # held records of any kind (bounds memory on data-only captures)
    fast_path: bool = True
    udp_ports: frozenset[int] = frozenset({4191})


@dataclass
class Analysis:
    """Everything one run concluded, as plain data (the export contract's tables)."""

    capture: dict[str, Any]
    messages: list[dict[str, Any]]
    bindings: list[dict[str, Any]]
    bul: list[dict[str, Any]]
    traffic: list[dict[str, Any]]
    traffic_bins: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    events: list[Event] = field(default_factory=list, repr=False)
    checker_available: bool = False
    unreadable: str | None = None  # set when the input was not a capture at all

    TABLES = ("messages", "bindings", "bul", "traffic", "traffic_bins", "findings", "problems")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"capture": self.capture}
        for name in self.TABLES:
            out[name] = getattr(self, name)
        return out


class Pipeline:
    """Streaming analysis: frames in, state queries at any time."""

    def __init__(self, options: AnalysisOptions | None = None, name: str | None = None) -> None:
        self.options = options or AnalysisOptions()
        self.name = name
        self.engine = BindingEngine(self.options.engine)
        self.frames = 0
        self.first_time: float | None = None
        self.last_time: float | None = None
        self.interfaces: dict[int, Interface] = {}
        self.problems: list[dict[str, Any]] = []
        self.problem_count = 0
        self._detector = DialectDetector(self.options.bid_type)
        self.dialect: Dialect | None = None
        self.dialect_reason = ""
        if self.options.dialect != "auto":
            self.dialect = Dialect(self.options.dialect)
            self.dialect_reason = "set by --dialect"
        self._held: list[Packet | list[TrafficCount]] = []
        self._held_packets = 0
        self._decode = DecodeOptions(dialect=self.dialect or Dialect.RFC5648,
                                     bid_type=self.options.bid_type, udp_ports=self.options.udp_ports)
        self._fast = FastPath(self._decode) if self.options.fast_path else None
        self.checker: Checker | None = None
        if self.dialect is not None:
            self.checker = self._make_checker()
        self._finished = False
        self.format: str | None = None  # "pcap" | "pcapng" once known
        self.unreadable: str | None = None  # why the input is not a capture at all

    # ------------------------------------------------------------------ input
    def feed_frame(self, frame: Frame) -> list[Event]:
        self.frames += 1
        self._saw(frame.time, frame.time)
        if self._fast is not None and self._fast.offer(frame):
            return []
        events = self._flush_rows()
        return events + self._slow(decode_frame(frame, self._decode))

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
        try:
            # a walk the C accelerator takes releases its pages itself (dissector.fastpath)
            accelerate = fast_accelerated() and hasattr(records, "accelerate")
            for record in fast.filter(records if accelerate else _release_pages(records)):
                frame = record_to_frame(record)
                slow += 1
                self._saw(frame.time, frame.time)
                self._flush_rows()
                self._slow(decode_frame(frame, self._decode))
        finally:
            self.frames += slow + fast.accepted - counted_before

    def _saw(self, first: float, last: float) -> None:
        self.first_time = first if self.first_time is None else min(self.first_time, first)
        self.last_time = last if self.last_time is None else max(self.last_time, last)

    def add_problems(self, problems: Iterable[Problem], frame: int | None = None) -> None:
        for p in problems:
            self.problem_count += 1
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append({"frame": frame, "layer": p.layer, "offset": p.offset,
                                      "reason": p.reason, "severity": p.severity})

    def _slow(self, packet: Packet) -> list[Event]:
        if packet.problems:
            self.add_problems(packet.problems, packet.frame)
        if self.dialect is None:
            self._detector.observe(packet)
            self._held.append(packet)
            if packet.mobility is not None:
                self._held_packets += 1
            decided, reason = self._detector.decision()
            if decided is None and (self._held_packets >= self.options.hold_limit
                                    or len(self._held) >= self.options.hold_items):
                decided, reason = self._detector.final()
                reason = f"{reason} (decided after holding {self._held_packets} messages)"
            if decided is None:
                return []
            return self._decide(decided, reason)
        return self._to_engine(packet)

    def _flush_rows(self) -> list[Event]:
        if self._fast is None:
            return []
        rows = self._fast.flush()
        if not rows:
            return []
        self._saw(rows[0].first, max(row.last for row in rows))
        if self.dialect is None:
            self._held.append(rows)
            return []
        return self._rows_to_engine(rows)

    def _decide(self, dialect: Dialect, reason: str) -> list[Event]:
        self.dialect, self.dialect_reason = dialect, reason
        self.checker = self._make_checker()
        self._decode = DecodeOptions(dialect=dialect, bid_type=self.options.bid_type,
                                     udp_ports=self.options.udp_ports)
        events: list[Event] = []
        held, self._held = self._held, []
        for item in held:
            if isinstance(item, list):
                events += self._rows_to_engine(item)
            else:
                events += self._to_engine(with_dialect(item, dialect))
        return events

    def _to_engine(self, packet: Packet) -> list[Event]:
        events = self.engine.feed(packet)
        if self.checker is not None:
            self.checker.observe(packet, events)
        return events

    def _rows_to_engine(self, rows: list[TrafficCount]) -> list[Event]:
        events = self.engine.feed_traffic(rows)
        if self.checker is not None:
            self.checker.observe_traffic(rows, events)
        return events

    # ------------------------------------------------------------------ output
    def finish(self, interfaces: dict[int, Interface] | None = None,
               capture_problems: Iterable[Problem] = (), capture_format: str | None = None) -> Analysis:
        """End of input: release held records, flush rows, close the engine and the checker."""
        if capture_format is not None:
            self.format = capture_format
        capture_problems = list(capture_problems)
        if self.frames == 0 and self.format is None and capture_problems:
            self.unreadable = capture_problems[0].reason
        if interfaces is not None:
            self.interfaces = dict(interfaces)
        self.add_problems(capture_problems)
        if not self._finished:
            self._finished = True
            self._flush_rows()
            if self.dialect is None:
                self._decide(*self._detector.final())
            end = self.last_time if self.last_time is not None else 0.0
            events = self.engine.finish(end)
            if self.checker is not None and events:
                self.checker.observe_traffic([], events)
        return self.snapshot(final=True)

    def snapshot(self, final: bool = False) -> Analysis:
        """The analysis so far (bindings still open show ``end`` None)."""
        findings: list[dict[str, Any]] = []
        if final and self.checker is not None:
            findings = [f.to_dict() for f in self.checker.finish(self.engine)]
        return Analysis(
            capture=self.capture_info(),
            messages=self.engine.messages(),
            bindings=[r.to_dict() for r in self.engine.bindings()],
            bul=[r.to_dict() for r in self.engine.bul()],
            traffic=self.engine.traffic(),
            traffic_bins=self.engine.traffic_bins(),
            findings=findings,
            problems=list(self.problems),
            events=self.engine.events,
            checker_available=self.checker is not None,
            unreadable=self.unreadable,
        )

    def capture_info(self) -> dict[str, Any]:
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
            "unattributed_packets": self.engine.traffic_table.unattributed_packets,
        }

    def _make_checker(self) -> Checker | None:
        """The checker, once the dialect is known (its rules read it); None with run_checker off."""
        if not self.options.run_checker:
            return None
        return Checker(CheckerConfig(dialect=self.dialect or Dialect.RFC5648))


RELEASE_EVERY = 1 << 16  # records between checks
RELEASE_BYTES = 32 << 20  # drop a memory-mapped capture's pages behind us in steps of this


def _release_pages(records: Iterable[RawRecord]) -> Iterator[RawRecord]:
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
            if isinstance(buf, mmap.mmap) and offset - released > RELEASE_BYTES:
                end = offset - offset % mmap.PAGESIZE
                try:
                    buf.madvise(mmap.MADV_DONTNEED, released, end - released)
                    released = end
                except (AttributeError, OSError, ValueError):  # platform without madvise
                    pass
        yield record


def analyse(source: str | os.PathLike[str], options: AnalysisOptions | None = None) -> Analysis:
    """Analyse a whole capture file (or ``-`` for stdin). Raises CaptureSourceError on bad input."""
    from mcoaviz.sources import open_capture

    pipeline = Pipeline(options, name=os.fspath(source))
    with open_capture(source) as capture:
        if capture.seekable_file:
            pipeline.feed_records(capture.records())
        else:
            pipeline.feed_frames(capture.frames())
        return pipeline.finish(capture.interfaces, capture.problems, capture.format)
