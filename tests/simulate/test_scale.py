"""Scale mode: deterministic, mostly tunnelled, real signalling with correct checksums."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest

from dissector.decode import decode_frame
from mcoaviz.simulate.scale import write_scale_capture
from mcoaviz.sources import read_frames
from tests.conftest import require_tool

NODES, COAS, DURATION, RATE = 6, 3, 4.0, 800.0


def small_capture(tmp_path: Path, seed: int = 3, name: str = "scale.pcapng") -> tuple[Path, int]:
    path = tmp_path / name
    return path, write_scale_capture(path, NODES, COAS, DURATION, RATE, seed)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, _ = small_capture(tmp_path, 3, "a.pcapng")
    b, _ = small_capture(tmp_path, 3, "b.pcapng")
    c, _ = small_capture(tmp_path, 4, "c.pcapng")
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_contents(tmp_path: Path) -> None:
    path, written = small_capture(tmp_path)
    frames, source = read_frames(path)
    assert source.problems == [] and len(frames) == written == int(RATE * DURATION)
    assert source.interfaces[0].linktype == 1
    times = [f.time for f in frames]
    assert times == sorted(times) and times[-1] - times[0] <= DURATION
    packets = [decode_frame(f) for f in frames]
    assert not any(p.malformed for p in packets)
    tunnels = Counter(p.path.tunnel for p in packets if p.mobility is None)
    assert tunnels["ip6ip6"] >= 0.9 * len(frames)
    route_optimised = [p for p in packets if p.mobility is None and p.path.tunnel is None]
    assert any(p.path.home_address_option for p in route_optimised)
    assert any(p.path.routing_type2 for p in route_optimised)
    signalling = [p for p in packets if p.mobility is not None]
    kinds = Counter(p.mobility.type_name for p in signalling)
    assert kinds["BU"] == kinds["BA"] >= 2 * NODES  # a registration and at least one refresh each
    assert all(p.mobility.checksum_ok for p in signalling)
    for p in signalling:
        assert [b.bid for b in p.mobility.bids] == list(range(1, COAS + 1))
        if p.mobility.type_name == "BU":
            assert p.path.home_address_option is not None
            assert len({b.coa for b in p.mobility.bids}) == COAS
        else:
            assert p.mobility.body.status == 0 and p.path.routing_type2 is not None
    homes = {p.path.home_address_option for p in signalling if p.mobility.type_name == "BU"}
    assert len(homes) == NODES


@pytest.mark.tshark
def test_tshark_reads_it_without_malformed_packets(tmp_path: Path) -> None:
    tshark = require_tool("tshark")
    path, written = small_capture(tmp_path)
    out = subprocess.run(
        [tshark, "-r", str(path), "-T", "fields",
         "-e", "frame.number", "-e", "mip6.mhtype", "-e", "_ws.malformed"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    rows = [line.split("\t") for line in out]
    assert len(rows) == written
    assert not any(r[2] for r in rows)
    ours = [f.number for f in read_frames(path)[0] if decode_frame(f).mobility is not None]
    assert [int(r[0]) for r in rows if r[1]] == ours
