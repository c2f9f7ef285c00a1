"""Decode a whole capture the way `mcoaviz decode` does, for the oracle tests."""

from __future__ import annotations

import io
from pathlib import Path

from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions
from dissector.dialect import DialectDetector, with_dialect
from dissector.records import Packet
from mcoaviz.cli.decode import whole_packets
from mcoaviz.sources import read_frames


def decode_capture(path: Path, dialect: Dialect | None = None) -> tuple[list[Packet], Dialect]:
    """Every frame decoded; BID flags re-read in ``dialect`` (None: auto-detected)."""
    frames, _source = read_frames(path)
    packets = list(whole_packets(frames, DecodeOptions(), io.StringIO()))  # reassembled like tshark
    if dialect is None:
        detector = DialectDetector()
        for packet in packets:
            detector.observe(packet)
        dialect = detector.final()[0]
    return [with_dialect(p, dialect) for p in packets], dialect
