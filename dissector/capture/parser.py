"""CaptureParser: a sans-IO reader for pcap and pcapng, fed bytes in any chunk size.

The parser never does I/O and never raises on bad input: garbage, an unknown magic or a
corrupt length becomes a capture-level :class:`Problem` and the parser stops producing
frames; a cut-off tail is reported by :meth:`close` as a warning naming the file offset.

Two ways in:

* ``feed(chunk) -> list[Frame]`` / ``close()`` for streams (pipes, stdin, sockets);
* ``feed_walk(chunk)`` / ``close()`` for streams on the bulk fast path: the complete records
  buffered so far as raw record tuples (a live capture read in chunks, ``mcoaviz live``);
* ``records(buffer)`` for a complete capture in memory (bytes or an mmap): yields raw
  record tuples that point into ``buffer`` without copying, for the bulk fast path.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator, Iterator
from typing import Any

from dissector.capture.limits import ProblemLog, RawRecord
from dissector.capture.pcap import FILE_HEADER_LENGTH, PcapReader, is_pcap_magic
from dissector.capture.pcapng import PcapngReader, is_pcapng_magic
from dissector.records import Frame, Interface, Problem

_COMPACT_AT = 1 << 20  # drop consumed bytes from the stream buffer beyond this many


class RecordWalk:
    """What :meth:`CaptureParser.records` returns: an iterator over raw records.

    ``iter(walk)`` is the reader's generator itself, so a ``for`` loop pays no wrapper per
    record. ``accelerate(accelerator)``, called before the walk starts, lets a consumer that
    settles most records itself (``FastPath.filter`` with ``dissector._fastscan``) have the
    reader hand consecutive records to it; only the records it leaves are yielded, in order.
    """

    __slots__ = ("_records", "_reader")

    def __init__(self, records: Iterator[RawRecord], reader: PcapReader | PcapngReader | None) -> None:
        self._records = records
        self._reader = reader

    def __iter__(self) -> Iterator[RawRecord]:
        return self._records

    def __next__(self) -> RawRecord:
        return next(self._records)

    def close(self) -> None:
        close = getattr(self._records, "close", None)
        if close is not None:
            close()

    def accelerate(self, accelerator: Any) -> bool:
        """Install ``accelerator`` (methods ``pcapng``/``pcap``, see the readers); False when
        the walk has already started or there is nothing to walk."""
        records = self._records
        if self._reader is None or not isinstance(records, Generator):
            return False
        if inspect.getgeneratorstate(records) != inspect.GEN_CREATED:
            return False
        self._reader.accelerator = accelerator
        return True


class CaptureParser:
    """Auto-detects pcap or pcapng from the first bytes; numbers frames from 1."""

    def __init__(self) -> None:
        self.interfaces: dict[int, Interface] = {}
        self.problems: list[Problem] = ProblemLog()  # bounded: the first N kept, all counted
        self.format: str | None = None  # "pcap" | "pcapng" once known
        self.frames = 0  # frames produced so far (the number of the last one)
        self._reader: PcapReader | PcapngReader | None = None
        self._buf = bytearray()
        self._pos = 0  # offset in _buf of the first unconsumed byte
        self._base = 0  # file offset of _buf[0]
        self._stopped = False  # a fatal problem was reported: ignore further input
        self.fatal: Problem | None = None  # that problem
        self._closed = False

    @property
    def stopped(self) -> bool:
        """A fatal problem was found: no more frames will come, whatever is fed."""
        return self._stopped

    # ------------------------------------------------------------------ streaming

    def feed(self, data: bytes) -> list[Frame]:
        """Parse as much as the bytes so far allow; partial records wait for more data."""
        if self._stopped or self._closed or not data:
            return []
        self._buf += data
        if self._reader is None and not self._detect(self._buf):
            return []
        frames: list[Frame] = []
        view = memoryview(self._buf)
        try:
            for number, time, ifid, linktype, buf, offset, caplen, wirelen in self._scan(
                view, self._pos, len(view)
            ):
                frames.append(
                    Frame(number, time, ifid, linktype, buf[offset : offset + caplen].tobytes(), wirelen)
                )
        finally:
            view.release()
        if self._pos > _COMPACT_AT or self._pos == len(self._buf):
            del self._buf[: self._pos]
            self._base += self._pos
            self._pos = 0
        return frames

    def feed_walk(self, data: bytes) -> RecordWalk:
        """Like ``feed``, but the complete records buffered so far come as a ``RecordWalk`` of raw
        records (the bulk path, C accelerator included) instead of Frames. The records point
        into an immutable copy of the buffered bytes; walk it to the end before the next call
        (a partial record at the end stays buffered for the next chunk)."""
        if self._stopped or self._closed:
            return RecordWalk(iter(()), None)
        self._buf += data
        if self._reader is None and not self._detect(self._buf):
            return RecordWalk(iter(()), None)
        reader = self._reader
        assert reader is not None
        start = self._pos
        snapshot = bytes(self._buf[start:])

        def walk_ended(_completed: bool) -> None:
            consumed = start + reader.pos
            self.frames = reader.number
            if reader.fatal is not None and not self._stopped:
                self._stop(reader.fatal)
            del self._buf[:consumed]
            self._base += consumed
            self._pos = 0

        walk = reader.scan(snapshot, 0, len(snapshot), self.frames, self._base + start, walk_ended)
        return RecordWalk(walk, reader)

    def close(self) -> list[Problem]:
        """End of input: returns the problems found at the end (a truncated tail, an empty file)."""
        if self._closed:
            return []
        self._closed = True
        found = self._tail_problems(self._buf, self._pos, len(self._buf))
        self._buf = bytearray()
        return found

    # ------------------------------------------------------------------ whole buffers

    def records(self, buffer: object) -> RecordWalk:
        """Walk a complete capture held in ``buffer`` (bytes, mmap, ...) without copying it.

        Yields ``(number, time, interface, linktype, buffer, offset, caplen, wire_length)``;
        the packet is ``buffer[offset:offset + caplen]``. Interfaces and problems fill in as
        the walk goes; the end-of-input check of :meth:`close` runs when the walk ends.
        Use either this or ``feed``/``close`` on one parser, not both.
        """
        end = len(buffer)  # type: ignore[arg-type]
        head = bytes(buffer[:FILE_HEADER_LENGTH])  # type: ignore[index]
        if self._reader is None and not self._detect(head):
            self._closed = True
            self._tail_problems(head, 0, len(head))
            return RecordWalk(iter(()), None)
        reader = self._reader
        assert reader is not None

        def walk_ended(completed: bool) -> None:
            self._walk_ended(reader)
            if completed:
                self._closed = True
                self._tail_problems(buffer, self._pos, end)

        # the reader's generator itself, not a wrapper: one generator level per record is
        # measurably cheaper on the bulk path
        return RecordWalk(reader.scan(buffer, self._pos, end, self.frames, self._base, walk_ended), reader)

    # ------------------------------------------------------------------ internals

    def _detect(self, head: bytes | bytearray) -> bool:
        """Pick the reader from the magic; False while too few bytes (or on garbage)."""
        if is_pcapng_magic(bytes(head[:4])):
            self.format = "pcapng"
            self._reader = PcapngReader(self.problems, self.interfaces)
            return True
        if is_pcap_magic(bytes(head[:4])):
            if len(head) < FILE_HEADER_LENGTH:
                return False
            reader = PcapReader(bytes(head[:FILE_HEADER_LENGTH]))
            self.format = "pcap"
            self.interfaces[0] = reader.interface
            self._reader = reader
            self._pos = FILE_HEADER_LENGTH
            return True
        if len(head) >= 4:
            self._stop(Problem("capture", 0, f"not a pcap or pcapng file (magic {bytes(head[:4]).hex()})"))
        return False

    def _scan(self, buf: object, pos: int, end: int) -> Iterator[RawRecord]:
        reader = self._reader
        assert reader is not None
        return reader.scan(
            buf, pos, end, self.frames, self._base, lambda _completed: self._walk_ended(reader)
        )

    def _walk_ended(self, reader: PcapReader | PcapngReader) -> None:
        self._pos = reader.pos
        self.frames = reader.number
        if reader.fatal is not None and not self._stopped:
            self._stop(reader.fatal)

    def _stop(self, problem: Problem) -> None:
        self.problems.append(problem)
        self.fatal = problem
        self._stopped = True

    def _tail_problems(self, buf: object, pos: int, end: int) -> list[Problem]:
        found: list[Problem] = []
        if self._stopped:
            return found
        if self._reader is None:
            if end == 0:
                found.append(Problem("capture", 0, "empty input: no capture header", "warning"))
            else:
                found.append(
                    Problem("capture", 0, f"input ends inside the file header ({end} bytes)", "warning")
                )
        elif self.format == "pcapng" and self._base + pos == 0 and pos < end:  # no block complete
            # as for a pcap cut inside its file header: nothing of the capture could be read
            found.append(Problem("capture", 0, f"input ends inside the pcapng section header ({end} bytes)",
                                 "warning"))
        elif pos < end:
            why = self._reader.describe_tail(buf, pos, end)
            found.append(
                Problem(
                    self.format or "capture",
                    self._base + pos,
                    f"capture truncated at byte {self._base + pos}: {why}",
                    "warning",
                )
            )
        self.problems.extend(found)
        return found
