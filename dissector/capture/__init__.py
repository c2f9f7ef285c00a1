"""Sans-IO capture readers: pcap (all magics, both byte orders) and multi-interface pcapng."""

from dissector.capture.limits import MAX_RECORD_LENGTH, RawRecord, frame_to_record, record_to_frame
from dissector.capture.parser import CaptureParser

__all__ = ["MAX_RECORD_LENGTH", "CaptureParser", "RawRecord", "frame_to_record", "record_to_frame"]
