"""Constants and the raw record shape shared by the pcap and pcapng readers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex

from dissector.records import Frame, Problem, maker

# Larger records are treated as corruption rather than waited for (Wireshark uses 16 MiB for
# pcapng blocks too); otherwise a garbage length would make a stream wait forever.
MAX_RECORD_LENGTH = 16 * 1024 * 1024

# A hostile file can hold millions of bad blocks (3 M packet blocks on an undeclared interface) or
# interface blocks; what is kept of them is bounded, the rest counted.
MAX_PROBLEMS_KEPT = 1000
MAX_PROBLEM_KINDS = 100  # distinct kinds counted; further kinds are counted under "other"
MAX_INTERFACES = 10_000  # interface blocks beyond this are counted as problems, not described
MAX_NAME_LENGTH = 1024  # characters of an interface name or description kept

_NUMBER = re.compile(r"\d+")


def problem_kind(problem: Problem) -> str:
    """The problem with its numbers taken out: problems of one kind differ only in offsets,
    lengths and ids."""
    return f"{problem.layer}: {_NUMBER.sub('N', problem.reason)}"


class ProblemLog(list[Problem]):
    """A list of problems that keeps the first ``limit`` and counts every one by kind.

    ``total`` counts all problems seen; ``counts`` maps :func:`problem_kind` to how many.
    """

    def __init__(self, limit: int = MAX_PROBLEMS_KEPT) -> None:
        super().__init__()
        self.limit = limit
        self.total = 0
        self.counts: dict[str, int] = {}

    @property
    def dropped(self) -> int:
        return self.total - len(self)

    def append(self, problem: Problem) -> None:
        self.total += 1
        kind = problem_kind(problem)
        if kind not in self.counts and len(self.counts) >= MAX_PROBLEM_KINDS:
            kind = "other"
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if len(self) < self.limit:
            super().append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.append(problem)

    def __iadd__(self, problems: Iterable[Problem]) -> ProblemLog:  # type: ignore[override,misc]
        self.extend(problems)
        return self

    def insert(self, index: SupportsIndex, problem: Problem) -> None:
        raise TypeError("a ProblemLog only appends")


# (number, time, interface, linktype, buffer, offset, caplen, wire_length):
# the packet bytes are buffer[offset:offset + caplen]. A plain tuple keeps the bulk path free
# of per-packet object construction; see CaptureParser.records().
RawRecord = tuple[int, float, int, int, Any, int, int, int]

# called by a reader when its walk ends; the argument is False when the consumer stopped early
WalkEnded = Callable[[bool], None]


_FRAME = maker(Frame)  # Frame(...) without the frozen __init__'s setattr by name: once per slow-path record


def record_to_frame(record: RawRecord) -> Frame:
    """The :class:`Frame` for a raw record (copies the packet bytes out of the buffer)."""
    number, time, interface, linktype, buf, offset, caplen, wire_length = record
    return _FRAME(number, time, interface, linktype, bytes(buf[offset : offset + caplen]), wire_length)


def frame_to_record(frame: Frame) -> RawRecord:
    """The raw record view of a :class:`Frame` (no copy)."""
    return (
        frame.number, frame.time, frame.interface, frame.linktype,
        frame.data, 0, len(frame.data), frame.wire_length,
    )  # fmt: skip
