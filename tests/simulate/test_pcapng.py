"""The pcapng writer: SHB, one IDB per capture point (if_name, if_tsresol), EPBs, read back by
dpkt and by our own parser with exact timestamps."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import dpkt
import pytest

from dissector.capture.parser import CaptureParser
from mcoaviz.simulate.pcapng import InterfaceSpec, PcapngWriter
from tests.conftest import require_tool

FRAME = bytes(range(60)) + b"\x01"  # odd length: the EPB must pad to 32 bits


def write_two_interfaces() -> bytes:
    stream = io.BytesIO()
    writer = PcapngWriter(stream, [InterfaceSpec("ha-uplink"), InterfaceSpec("mn-if1", nanoseconds=False)])
    writer.write(0, 1_700_000_001_123_456_789, FRAME)
    writer.write(1, 1_700_000_002_987_654_321, FRAME[:14])
    return stream.getvalue()


def test_blocks_are_32_bit_aligned_and_lengths_match() -> None:
    data = write_two_interfaces()
    offset, kinds = 0, []
    while offset < len(data):
        kind = int.from_bytes(data[offset : offset + 4], "little")
        length = int.from_bytes(data[offset + 4 : offset + 8], "little")
        assert length % 4 == 0
        assert data[offset + length - 4 : offset + length] == data[offset + 4 : offset + 8]
        kinds.append(kind)
        offset += length
    assert kinds == [0x0A0D0D0A, 1, 1, 6, 6]


def test_own_parser_reads_names_resolution_and_exact_times() -> None:
    parser = CaptureParser()
    frames = parser.feed(write_two_interfaces())
    assert [i.name for i in parser.interfaces.values()] == ["ha-uplink", "mn-if1"]
    assert [i.ts_resolution for i in parser.interfaces.values()] == [1e-9, 1e-6]
    assert [f.interface for f in frames] == [0, 1]
    assert frames[0].data == FRAME and frames[0].wire_length == len(FRAME)
    assert abs(frames[0].time - 1_700_000_001.123456789) < 1e-6
    assert abs(frames[1].time - 1_700_000_002.987654) < 1e-6  # microsecond interface truncates


def test_dpkt_reads_the_frames() -> None:
    reader = dpkt.pcapng.Reader(io.BytesIO(write_two_interfaces()))
    assert [bytes(buf) for _, buf in reader] == [FRAME, FRAME[:14]]


@pytest.mark.tshark
def test_tshark_reads_interface_names(tmp_path: Path) -> None:
    tshark = require_tool("tshark")
    path = tmp_path / "two.pcapng"
    path.write_bytes(write_two_interfaces())
    out = subprocess.run(
        [tshark, "-r", str(path), "-T", "fields", "-e", "frame.interface_name", "-e", "frame.time_epoch"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.split() == ["ha-uplink", "1700000001.123456789", "mn-if1", "1700000002.987654000"]
