"""The pipeline end to end on small captures built with dissector.encode (real bytes)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dissector.codepoints import Dialect
from dissector.encode import (
    binding_ack,
    binding_identifier,
    binding_update,
    ethernet_for,
    ip6ip6,
    ipv6_packet,
    mac,
    mobility_header,
    udp_datagram,
)
from mcoaviz.pipeline import AnalysisOptions, Pipeline, analyse
from mcoaviz.simulate.pcapng import InterfaceSpec, PcapngWriter
from mcoaviz.sources import open_capture
from tests.conftest import SAMPLES

HOA, HA, CN = "2001:db8:a::100", "2001:db8:a::1", "2001:db8:c::1"
COA1, COA2 = "2001:db8:1::100", "2001:db8:2::100"
MN_MAC, GW_MAC = mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02")
T0 = 1_700_000_000.0


def _bu(seq: int, coa: str, bids: list, lifetime: int = 60, flags: tuple[str, ...] = ("A", "H")) -> bytes:
    mh = mobility_header(binding_update(seq, lifetime, *flags), bids)
    return ethernet_for(GW_MAC, MN_MAC, ipv6_packet(coa, HA, 135, mh, hao=HOA))


def _ba(seq: int, coa: str, bids: list, status: int = 0, lifetime: int = 60) -> bytes:
    mh = mobility_header(binding_ack(status, seq, lifetime), bids)
    return ethernet_for(MN_MAC, GW_MAC, ipv6_packet(HA, coa, 135, mh, rh2=HOA))


def _tunnel_to_mn(coa: str, size: int = 64) -> bytes:
    inner = ipv6_packet(CN, HOA, 17, udp_datagram(CN, HOA, 5000, 6000, b"x" * size))
    return ethernet_for(MN_MAC, GW_MAC, ip6ip6(HA, coa, inner))


def write_capture(path: Path, dialect: Dialect = Dialect.RFC5648) -> Path:
    """Two BIDs registered in bulk, tunnelled data to both CoAs, then BID 2 de-registered."""
    flags = ("A", "H") if dialect is Dialect.DRAFT05 else ("A", "H", "O")
    b1 = binding_identifier(1, COA1, dialect=dialect, overwrite=dialect is Dialect.DRAFT05)
    b2 = binding_identifier(2, COA2, dialect=dialect, overwrite=dialect is Dialect.DRAFT05)
    frames = [
        (0.0, _bu(1, COA1, [b1, b2], flags=flags)),
        (0.1, _ba(1, COA1, [binding_identifier(1, dialect=dialect), binding_identifier(2, dialect=dialect)])),
        (1.0, _tunnel_to_mn(COA1)), (1.5, _tunnel_to_mn(COA2)), (2.2, _tunnel_to_mn(COA1)),
        (3.0, _bu(2, COA1, [binding_identifier(2, dialect=dialect)], lifetime=0)),
        (3.1, _ba(2, COA1, [binding_identifier(2, dialect=dialect)], lifetime=0)),
        (4.0, _tunnel_to_mn(COA2)),
    ]
    with path.open("wb") as out:
        writer = PcapngWriter(out, [InterfaceSpec("mn0")])
        for t, data in frames:
            writer.write(0, int((T0 + t) * 1e9), data)
    return path


def test_analyse_reconstructs_bindings_and_traffic(tmp_path: Path) -> None:
    analysis = analyse(write_capture(tmp_path / "c.pcapng"), AnalysisOptions(dialect="rfc5648"))
    rows = [(b["bid"], b["coa"], round(b["start"] - T0, 3), b["end"] and round(b["end"] - T0, 3),
             b["end_reason"]) for b in analysis.bindings]
    assert rows == [(1, COA1, 0.1, None, None), (2, COA2, 0.1, 3.1, "deregistered")]
    traffic = {(t["coa"], t["bid"], t["direction"], t["via"]): t["packets"] for t in analysis.traffic}
    assert traffic == {(COA1, 1, "to-mn", "tunnel"): 2, (COA2, 2, "to-mn", "tunnel"): 1,
                       (COA2, None, "to-mn", "tunnel"): 1}
    assert analysis.capture["frames"] == 8
    assert [m["type"] for m in analysis.messages] == ["BU", "BA", "BU", "BA"]
    assert sum(b["packets"] for b in analysis.traffic_bins) == 4


def test_auto_dialect_holds_records_and_says_why(tmp_path: Path) -> None:
    analysis = analyse(write_capture(tmp_path / "d.pcapng", Dialect.DRAFT05))
    assert analysis.capture["dialect"] == "draft05"
    # the decisive evidence: frame 1's BID 1 has 0x80 set with an IPv6 CoA that is not the HoA
    reason = analysis.capture["dialect_reason"]
    assert ("frame 1" in reason, "BID 1" in reason, "0x80" in reason) == (True, True, True), reason
    # read as draft-05, 0x80 is C (CoA present), not H: the bindings are foreign, not home
    rows = [(b["bid"], b["coa"], b["home"]) for b in analysis.bindings]
    assert rows == [(1, COA1, False), (2, COA2, False)]


def test_streaming_pipeline_answers_snapshots_while_fed(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "s.pcapng")
    pipeline = Pipeline(AnalysisOptions(dialect="rfc5648"), name=str(path))
    with open_capture(path) as capture:
        frames = list(capture.frames())
    pipeline.feed_frames(frames[:2])
    assert [b["bid"] for b in pipeline.snapshot().bindings] == [1, 2]
    pipeline.feed_frames(frames[2:])
    final = pipeline.finish()
    assert [b["end_reason"] for b in final.bindings] == [None, "deregistered"]


def test_unreadable_input_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"this is not a capture at all")
    analysis = analyse(bad)
    # the first four bytes, "this", are no pcap / pcapng magic number
    assert analysis.unreadable is not None and "74686973" in analysis.unreadable
    assert analysis.unreadable.startswith("not a pcap or pcapng file")
    assert (analysis.bindings, analysis.messages, analysis.traffic) == ([], [], [])


def test_export_json_is_one_object_with_the_contract_tables(tmp_path: Path) -> None:
    from mcoaviz.export import write_json

    analysis = analyse(write_capture(tmp_path / "j.pcapng"), AnalysisOptions(dialect="rfc5648"))
    out = io.StringIO()
    write_json(analysis, out)
    import json

    data = json.loads(out.getvalue())
    assert {"capture", "messages", "bindings", "bul", "traffic", "traffic_bins", "findings"} <= set(data)
    capture = {k: data["capture"][k] for k in ("frames", "interfaces", "dialect", "first_time", "last_time")}
    assert capture == {"frames": 8, "interfaces": [{"id": 0, "name": "mn0", "linktype": 1}],
                       "dialect": "rfc5648", "first_time": T0, "last_time": T0 + 4.0}
    # docs/architecture.md's bindings row, by hand from write_capture: BID 1 accepted by the BA
    # (frame 2, T0 + 0.1), granted 60 s, still valid at the capture's end (T0 + 4)
    contract = ("node", "role", "hoa", "bid", "coa", "start", "end", "end_reason", "home", "lifetime",
                "confirmed", "pre_existing", "start_frame", "end_frame")
    first = data["bindings"][0]
    assert {k: first[k] for k in contract} == {
        "node": HA, "role": "home-agent", "hoa": HOA, "bid": 1, "coa": COA1, "start": T0 + 0.1,
        "end": None, "end_reason": None, "home": False, "lifetime": 60, "confirmed": True,
        "pre_existing": False, "start_frame": 2, "end_frame": None}
    assert [(m["frame"], m["type"], m["seq"]) for m in data["messages"]] == [
        (1, "BU", 1), (2, "BA", 1), (6, "BU", 2), (7, "BA", 2)]


def test_fast_path_rows_are_flushed_around_signalling_in_the_same_second(tmp_path: Path) -> None:
    """Data just before and just after a registration, within one second, lands on either side."""
    b1 = binding_identifier(1, COA1)
    frames = [(5.1, _tunnel_to_mn(COA1)), (5.2, _bu(1, COA1, [b1])),
              (5.3, _ba(1, COA1, [binding_identifier(1)])), (5.4, _tunnel_to_mn(COA1)),
              (5.5, _tunnel_to_mn(COA1))]
    path = tmp_path / "same-second.pcapng"
    with path.open("wb") as out:
        writer = PcapngWriter(out, [InterfaceSpec("mn0")])
        for t, data in frames:
            writer.write(0, int((T0 + t) * 1e9), data)
    analysis = analyse(path, AnalysisOptions(dialect="rfc5648"))
    # the packet before the BU lies before any signalling: no home agent known yet, so it is
    # unattributed; had its row been flushed after the BA, it would count for BID 1
    assert {(t["bid"], t["packets"]) for t in analysis.traffic} == {(1, 2)}
    assert analysis.capture["unattributed_packets"] == 1
    assert analysis.capture["frames"] == 5


def _fragments(frame: bytes, size: int = 64) -> list[bytes]:
    """An Ethernet + IPv6 frame cut into IPv6 fragments of ``size`` payload bytes."""
    import struct

    eth, ip, payload = frame[:14], frame[14:54], frame[54:]
    pieces = []
    for offset in range(0, len(payload), size):
        more = offset + size < len(payload)
        chunk = payload[offset : offset + size]
        header = struct.pack("!BBHI", ip[6], 0, offset | int(more), 77)
        head = ip[:4] + struct.pack("!H", 8 + len(chunk)) + bytes((44,)) + ip[7:]
        pieces.append(eth + head + header + chunk)
    return pieces


def test_fragmented_signalling_is_analysed_once_reassembled(tmp_path: Path) -> None:
    """The pipeline reassembles IPv6 fragments (as `decode` shows them): the BU counts once."""
    bids = [binding_identifier(1, COA1), binding_identifier(2, COA2)]
    pieces = _fragments(_bu(1, COA1, bids, flags=("A", "H", "O")))
    path = tmp_path / "frag.pcapng"
    with path.open("wb") as out:
        writer = PcapngWriter(out, [InterfaceSpec("mn0")])
        for n, piece in enumerate(pieces):
            writer.write(0, int((T0 + n * 0.01) * 1e9), piece)
        ack = _ba(1, COA1, [binding_identifier(1), binding_identifier(2)])
        writer.write(0, int((T0 + 0.2) * 1e9), ack)
    assert len(pieces) > 1
    analysis = analyse(path, AnalysisOptions(dialect="rfc5648"))
    last = len(pieces)  # the BU is numbered like the fragment that completes it
    assert [(m["frame"], m["type"]) for m in analysis.messages] == [(last, "BU"), (last + 1, "BA")]
    assert [(b["bid"], b["coa"]) for b in analysis.bindings] == [(1, COA1), (2, COA2)]


def test_stepwise_collector_restores_the_collector_and_frees_young_cycles() -> None:
    import gc
    import weakref

    from mcoaviz.pipeline import StepwiseCollector

    class Node:
        pass

    assert gc.isenabled()
    with StepwiseCollector() as collector:
        assert not gc.isenabled()
        cycle = Node()
        cycle.me = cycle  # type: ignore[attr-defined]
        alive = weakref.ref(cycle)
        del cycle
        assert alive() is not None  # the automatic collector is off ...
        collector.step()
        assert alive() is None  # ... a step frees garbage cycles
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with StepwiseCollector(young_limit=10_000) as collector:
        gc.collect()  # an empty young generation to start from
        young = [Node() for _ in range(5_000)]
        collector.maybe_step()
        assert collector.steps == 0  # below the limit: no collection
        young += [Node() for _ in range(6_000)]
        collector.maybe_step()
        assert collector.steps == 1 and gc.get_count()[0] < 100  # collected (and frozen)
        del young
    with StepwiseCollector(young_limit=10_000) as collector:
        kept = [Node() for _ in range(5_000)]
        late = Node()
        late.me = late  # type: ignore[attr-defined]
        gone = weakref.ref(late)
        del late
        assert collector.steps == 0 and gc.get_count()[0] >= 5_000
    # leaving hands what was allocated since the last step to the oldest generation unvisited
    # (no young generation for the re-enabled collector's next look to scan) ...
    assert gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_count()[0] < 100
    assert gone() is not None
    gc.collect()
    assert gone() is None and len(kept) == 5_000  # ... and a full collection still frees cycles
    gc.disable()
    try:
        with StepwiseCollector():
            pass
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()


RETURNHOME_DATA = SAMPLES / "returnhome-data-violations-rfc5648.pcapng"


@pytest.mark.parametrize("pure", ["0", "1"])
def test_returned_home_address_frames_reach_the_checker_with_macs(
    pure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the RETURNHOME BA the fast path hands the home address's frames to the slow path, so
    MCOA420/MCOA421 see their MACs (frames 244 and 268: the truth file's), on both fast paths."""
    monkeypatch.setenv("MCOAVIZ_PURE_PYTHON", pure)
    pipeline = Pipeline(name=str(RETURNHOME_DATA))
    with open_capture(RETURNHOME_DATA) as capture:
        pipeline.feed_records(capture.records())
        analysis = pipeline.finish(capture.interfaces, capture.problems, capture.format)
    assert pipeline._fast is not None and pipeline._fast.watched == {"2001:db8:1::100"}
    found = {(f["rule"], f["frame"]) for f in analysis.findings if f["rule"] in ("MCOA420", "MCOA421")}
    assert found == {("MCOA420", 244), ("MCOA421", 268)}


def test_without_the_watch_the_data_frames_stay_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path alone keeps no MACs: with ``watch`` switched off neither rule can fire, and
    every other table of the analysis is the same (declined frames are counted alike)."""
    watched = analyse(RETURNHOME_DATA).to_dict()
    monkeypatch.setattr("dissector.fastpath.FastPath.watch", lambda self, addresses: None)
    counted = analyse(RETURNHOME_DATA).to_dict()
    assert not [f for f in counted["findings"] if f["rule"] in ("MCOA420", "MCOA421")]
    assert {k: v for k, v in watched.items() if k != "findings"} == \
        {k: v for k, v in counted.items() if k != "findings"}
