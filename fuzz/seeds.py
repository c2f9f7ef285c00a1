"""Seed inputs for the fuzz target, cut from the sample and third-party captures.

Whole captures are too large to mutate usefully, so each becomes a few small seeds: its first
bytes as a capture (mode 0), and its signalling frames, Mobility Headers and UDP payloads as
frame-level seeds (modes 1-3, see fuzz/targets.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dissector.capture import CaptureParser
from dissector.decode import decode_frame
from fuzz.targets import LINKTYPES, MODE_CAPTURE, MODE_FRAME, MODE_MOBILITY, MODE_UDP

ROOT = Path(__file__).resolve().parent.parent
CAPTURE_DIRS = (ROOT / "sample-captures", ROOT.parent / "shared" / "captures" / "third-party")
CAPTURE_SEED_BYTES = 4096
FRAMES_PER_CAPTURE = 12


def capture_files() -> list[Path]:
    found: list[Path] = []
    for folder in CAPTURE_DIRS:
        if folder.is_dir():
            found += sorted(p for p in folder.rglob("*") if p.suffix in (".pcap", ".pcapng"))
    return found


def seeds_of(path: Path) -> Iterator[bytes]:
    data = path.read_bytes()
    yield bytes([MODE_CAPTURE]) + data[:CAPTURE_SEED_BYTES]
    parser = CaptureParser()
    taken = 0
    for frame in parser.feed(data):
        packet = decode_frame(frame)
        if packet.mobility is None and packet.esp is None and packet.path.udp_dport is None:
            continue
        if frame.linktype in LINKTYPES:
            yield bytes([MODE_FRAME, LINKTYPES.index(frame.linktype)]) + frame.data
        if packet.mobility is not None:
            m = packet.mobility
            yield bytes([MODE_MOBILITY]) + frame.data[m.offset : m.offset + m.header_len]
        if packet.path.udp_dport is not None and packet.path.protocol is not None:
            yield bytes([MODE_UDP]) + frame.data[-min(len(frame.data), 200):]
        taken += 1
        if taken >= FRAMES_PER_CAPTURE:
            break


def all_seeds() -> list[bytes]:
    unique: dict[bytes, None] = {}
    for path in capture_files():
        for seed in seeds_of(path):
            unique.setdefault(seed, None)
    return list(unique)


def write_corpus(folder: Path) -> int:
    """Write every seed into ``folder`` (one file each, named by content hash); returns how many."""
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    seeds = all_seeds()
    for seed in seeds:
        (folder / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    return len(seeds)
