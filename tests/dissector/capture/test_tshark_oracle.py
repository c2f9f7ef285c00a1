"""Frame numbers, times and interface ids agree with tshark on real and built captures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dissector.capture import CaptureParser
from tests.conftest import THIRD_PARTY, require_shared, require_tool
from tests.dissector.capture.capture_bytes import epb, idb, packet, shb, spb


def tshark_frames(path: Path) -> list[tuple[int, float | None, int | None]]:
    tshark = require_tool("tshark")
    out = subprocess.run(
        [tshark, "-r", str(path), "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch", "-e",
         "frame.interface_id"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = []
    for line in out.splitlines():
        number, time, interface = line.split("\t")
        rows.append((int(number), float(time) if time else None, int(interface) if interface else None))
    return rows


def ours(path: Path) -> list[tuple[int, float, int]]:
    parser = CaptureParser()
    frames = parser.feed(path.read_bytes())
    assert parser.close() == [] and parser.problems == []
    return [(f.number, f.time, f.interface) for f in frames]


def third_party_captures() -> list[Path]:
    return sorted(THIRD_PARTY.glob("*/*.pcap")) + sorted(THIRD_PARTY.glob("*/*.pcapng"))


@pytest.mark.tshark
def test_third_party_captures_match_tshark() -> None:
    require_shared()
    captures = third_party_captures()
    assert len(captures) >= 20
    for path in captures:
        theirs = tshark_frames(path)
        mine = ours(path)
        assert len(mine) == len(theirs), path.name
        for (n1, t1, _), (n2, t2, _) in zip(mine, theirs, strict=True):
            assert n1 == n2 and t1 == pytest.approx(t2, abs=1e-6), path.name


@pytest.mark.tshark
def test_built_multi_section_pcapng_matches_tshark(tmp_path: Path) -> None:
    eth = bytes(12) + b"\x86\xdd" + bytes(40)
    raw6 = b"\x60" + bytes(39)
    data = (
        shb("<")
        + idb("<", 1, name="eth0")
        + idb("<", 229, tsresol=9)
        + epb("<", 0, 1_700_000_000_123_456, eth)
        + epb("<", 1, 1_700_000_001_987_654_321, raw6)
        + shb(">")
        + idb(">", 101, tsresol=0x80 | 16)
        + idb(">", 1, tsresol=3)
        + epb(">", 1, 1_700_000_002_500, eth)
        + epb(">", 0, (1_700_000_003 << 16) + (1 << 15), raw6)
        + spb(">", packet(1))
    )
    path = tmp_path / "multi.pcapng"
    path.write_bytes(data)
    theirs = tshark_frames(path)
    mine = ours(path)
    # Deliberate difference: tshark 4.0 prints section-local interface ids (and even reuses the
    # first section's interface names); we number interfaces across the file so that two
    # sections' interfaces never merge. Section 2 starts at our interface 2.
    section_start = [0, 0, 2, 2, 2]
    assert [(n, i - s) for (n, _, i), s in zip(mine, section_start, strict=True)] == [
        (n, i) for n, _, i in theirs
    ]
    # tshark gives an SPB no time of its own; compare the timestamped blocks
    for (_, t1, _), (_, t2, _) in list(zip(mine, theirs, strict=True))[:4]:
        assert t1 == pytest.approx(t2, abs=1e-6)
