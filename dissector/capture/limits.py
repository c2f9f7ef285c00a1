"""Constants and the raw record shape shared by the pcap and pcapng readers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dissector.records import Frame

# Larger records are treated as corruption rather than waited for (Wireshark uses 16 MiB for
# pcapng blocks too); otherwise a garbage length would make a stream wait forever.
MAX_RECORD_LENGTH = 16 * 1024 * 1024

# (number, time, interface, linktype, buffer, offset, caplen, wire_length):
# the packet bytes are buffer[offset:offset + caplen]. A plain tuple keeps the bulk path free
# of per-packet object construction; see CaptureParser.records().
RawRecord = tuple[int, float, int, int, Any, int, int, int]

# called by a reader when its walk ends; the argument is False when the consumer stopped early
WalkEnded = Callable[[bool], None]


def record_to_frame(record: RawRecord) -> Frame:
    """The :class:`Frame` for a raw record (copies the packet bytes out of the buffer)."""
    number, time, interface, linktype, buf, offset, caplen, wire_length = record
    return Frame(number, time, interface, linktype, bytes(buf[offset : offset + caplen]), wire_length)


def frame_to_record(frame: Frame) -> RawRecord:
    """The raw record view of a :class:`Frame` (no copy)."""
    return (
        frame.number, frame.time, frame.interface, frame.linktype,
        frame.data, 0, len(frame.data), frame.wire_length,
    )  # fmt: skip
