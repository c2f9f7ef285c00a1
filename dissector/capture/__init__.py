"""Sans-IO capture readers: pcap (all magics, both byte orders) and multi-interface pcapng."""

from dissector.capture.limits import (
    MAX_RECORD_LENGTH,
    ProblemLog,
    RawRecord,
    frame_to_record,
    problem_kind,
    record_to_frame,
)
from dissector.capture.parser import CaptureParser

__all__ = [
    "MAX_RECORD_LENGTH", "CaptureParser", "ProblemLog", "RawRecord", "frame_to_record", "problem_kind",
    "record_to_frame",
]
