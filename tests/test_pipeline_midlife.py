"""Whole pipeline on real bytes: a capture that starts mid-life, and one where everything expires.

The simulator's truth files have no pre-existing binding and only two expiries, so these two
captures are built here (dissector.encode) with expectations worked out by hand: a binding
first seen through a refresh existed before the capture and starts at the capture's first
record (docs/architecture.md, export contract); an unrefreshed binding ends at its BA time +
the granted lifetime with end_reason "expired" and no end frame.
"""

from __future__ import annotations

from pathlib import Path

from dissector.encode import binding_identifier
from mcoaviz.pipeline import AnalysisOptions, analyse
from mcoaviz.simulate.pcapng import InterfaceSpec, PcapngWriter
from tests.test_pipeline import COA1, COA2, T0, _ba, _bu, _tunnel_to_mn

COA3 = "2001:db8:3::100"


def write(path: Path, frames: list[tuple[float, bytes]]) -> Path:
    with path.open("wb") as out:
        writer = PcapngWriter(out, [InterfaceSpec("mn0")])
        for t, data in frames:
            writer.write(0, int((T0 + t) * 1e9), data)
    return path


def bindings(path: Path) -> list[tuple[object, ...]]:
    analysis = analyse(path, AnalysisOptions(dialect="rfc5648", run_checker=False))
    return [(b["bid"], b["coa"], round(b["start"] - T0, 3), b["start_frame"],
             None if b["end"] is None else round(b["end"] - T0, 3), b["end_frame"], b["end_reason"],
             b["pre_existing"]) for b in analysis.bindings]


def test_capture_starting_mid_life(tmp_path: Path) -> None:
    frames = [
        (10.0, _tunnel_to_mn(COA1)),  # 1: the HA already tunnels to COA1: BID 1 predates the capture
        (11.0, _bu(40, COA2, [binding_identifier(2)], lifetime=32)),  # 2: Length-4 refresh of BID 2
        (11.1, _ba(40, COA2, [binding_identifier(2)], lifetime=32)),  # 3
        (12.0, _bu(41, COA1, [binding_identifier(1, COA1)], lifetime=32)),  # 4: refresh of BID 1
        (12.1, _ba(41, COA1, [binding_identifier(1)], lifetime=32)),  # 5
        (13.0, _bu(42, COA3, [binding_identifier(3, COA3)], lifetime=32)),  # 6: a new BID 3
        (13.1, _ba(42, COA3, [binding_identifier(3)], lifetime=32)),  # 7
        (50.0, _tunnel_to_mn(COA3)),  # 8: past every expiry (32 s: 8 units of 4 s)
    ]
    got = bindings(write(tmp_path / "midlife.pcapng", frames))
    assert got == [
        (1, COA1, 10.0, 5, 44.1, None, "expired", True),
        (2, COA2, 10.0, 3, 43.1, None, "expired", True),
        (3, COA3, 13.1, 7, 45.1, None, "expired", False),
    ]


def test_many_expiries(tmp_path: Path) -> None:
    # six BIDs registered one by one (BU at 2n, BA at 2n + 0.1), lifetimes 4n s, never refreshed
    frames: list[tuple[float, bytes]] = []
    coas = [f"2001:db8:{n}::100" for n in range(1, 7)]
    for n, coa in enumerate(coas, start=1):
        frames += [(2.0 * n, _bu(n, coa, [binding_identifier(n, coa)], lifetime=4 * n)),
                   (2.0 * n + 0.1, _ba(n, coa, [binding_identifier(n)], lifetime=4 * n))]
    frames.append((100.0, _tunnel_to_mn(coas[0])))  # long after: all of them are gone
    got = bindings(write(tmp_path / "expiries.pcapng", frames))
    assert got == [(n, coa, round(2.0 * n + 0.1, 3), 2 * n, round(2.0 * n + 0.1 + 4 * n, 3), None, "expired",
                    False) for n, coa in enumerate(coas, start=1)]
