"""The truth agrees with its own capture: every time and frame it cites is a frame that shows
the event (decoded with our dissector), rows are well ordered, traffic counts add up."""

from __future__ import annotations

import pytest

from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions, decode_frame
from dissector.records import BindingAck, BindingUpdate, Frame, Packet
from mcoaviz.simulate.model import EPOCH_NS
from mcoaviz.simulate.samples import sample_files
from mcoaviz.simulate.scenarios import Result, run

SCENARIOS = sorted({(name, dialect) for _, name, dialect in sample_files() if name != "violations"})


def decoded(result: Result, dialect: Dialect) -> dict[int, Packet]:
    options = DecodeOptions(dialect=dialect)
    packets = {}
    for s in result.sim.ordered_sightings():
        frame = Frame(s.number, (EPOCH_NS + s.time_ns) / 1e9, s.interface, 1, s.data, len(s.data))
        packets[s.number] = decode_frame(frame, options)
    return packets


WALKS = [(seed, dialect) for seed in (1, 2, 3, 9, 19) for dialect in Dialect]


@pytest.mark.parametrize(("name", "dialect"), SCENARIOS, ids=[f"{n}-{d.value}" for n, d in SCENARIOS])
def test_truth_cites_real_frames(name: str, dialect: Dialect) -> None:
    check_truth(run(name, dialect=dialect), dialect)


@pytest.mark.parametrize(("seed", "dialect"), WALKS, ids=[f"seed{s}-{d.value}" for s, d in WALKS])
def test_random_walks_keep_the_truth_consistent(seed: int, dialect: Dialect) -> None:
    check_truth(run("random-walk", seed=seed, dialect=dialect), dialect)


def check_truth(result: Result, dialect: Dialect) -> None:
    packets = decoded(result, dialect)
    assert all(not p.malformed for p in packets.values())
    truth = result.truth
    for row in truth["bindings"]:
        start = packets[row["start_frame"]]
        assert abs(start.time - row["start"]) < 1e-6
        message = start.mobility
        assert message is not None and isinstance(message.body, BindingAck | BindingUpdate)
        if isinstance(message.body, BindingAck):
            assert start.path.src == row["node"]  # the node that accepted sent this BA
        if row["end"] is not None:
            assert row["end"] >= row["start"]
        if row["end_reason"] == "expired":
            assert row["end_frame"] is None and row["end"] - row["start"] >= row["lifetime"] - 1e-6
        elif row["end_reason"] is not None:
            end = packets[row["end_frame"]]
            assert abs(end.time - row["end"]) < 1e-6
            assert end.mobility is not None and isinstance(end.mobility.body, BindingAck)
        if row["home"]:
            assert row["coa"] == row["hoa"]
    for row in truth["bul"]:
        assert row["end"] is None or row["end"] >= row["start"]
        if row["end_reason"] == "rejected":
            assert row["status"] is not None and row["status"] >= 128
    data_frames = sum(1 for p in packets.values() if p.mobility is None and p.icmp6 is None)
    counted = sum(r["packets"] for r in truth["traffic"])
    assert 0 < counted <= data_frames
    for row in truth["traffic"]:
        assert row["first"] <= row["last"]
        assert row["via"] in {"tunnel", "udp", "route-optimised"}
        assert row["direction"] in {"to-mn", "from-mn"}
