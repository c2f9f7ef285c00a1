"""Wireshark as a second opinion, through pyshark and the installed tshark (runs in CI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dissector.codepoints import Dialect
from dissector.encode import binding_update, dsmip_udp, ethernet_for, ipv6_packet, mac, mobility_header
from dissector.records import UnknownOption
from mcoaviz.cli import main
from mcoaviz.simulate.pcapng import InterfaceSpec, PcapngWriter
from mcoaviz.wireshark import second_opinion
from mcoaviz.wireshark_compare import KNOWN_BID_DRAFT, KNOWN_CHECKSUM, KNOWN_O_FLAG
from tests.conftest import SAMPLES, require_shared, require_tool

HOA, HA, COA = "2001:db8:1::100", "2001:db8:1::1", "2001:db8:a1::100"
MN_MAC, RT_MAC = mac("02:00:00:00:00:01"), mac("02:00:00:00:00:fe")


def _frame(mh: bytes, checksum: int | None = None) -> bytes:
    return ethernet_for(RT_MAC, MN_MAC, ipv6_packet(COA, HA, 135, mh, hao=HOA, checksum=checksum))


UDP_CHECKSUM_AT, IPV4_CHECKSUM_AT = 20 + 6, 10


def _dsmip_packet() -> bytes:
    """A BU over IPv4/UDP 4191 (RFC 5555), checksums right."""
    inner = ipv6_packet(HOA, HA, 135, mobility_header(binding_update(4, 400, "A", "H")))
    return dsmip_udp("192.0.2.10", "198.51.100.1", 4191, 4191, inner)


def _dsmip(checksum_at: int) -> bytes:
    """The DSMIPv6 BU with the checksum at ``checksum_at`` made wrong."""
    outer = bytearray(_dsmip_packet())
    outer[checksum_at] ^= 0xFF
    return ethernet_for(RT_MAC, MN_MAC, bytes(outer))


def _right_checksum(at: int) -> str:
    return f"0x{int.from_bytes(_dsmip_packet()[at : at + 2], 'big'):04x}"


def broken_capture(path: Path) -> Path:
    """Frame 1 a good BU; 2 a bad MH checksum; 3 Header Len past the packet; 4 a Nonce Indices
    option with Length 2 (must be 4); 5 a DSMIPv6 BU with a bad UDP checksum; 6 with a bad IPv4
    header checksum."""
    good = mobility_header(binding_update(1, 400, "A", "H"))
    too_long = mobility_header(binding_update(2, 400, "A", "H"), header_len=5)
    short_option = mobility_header(binding_update(3, 400, "A", "H"), [UnknownOption(0, 4, b"\0\1")])
    frames = [_frame(good), _frame(good, checksum=0x0BAD), _frame(too_long), _frame(short_option),
              _dsmip(UDP_CHECKSUM_AT), _dsmip(IPV4_CHECKSUM_AT)]
    with path.open("wb") as out:
        writer = PcapngWriter(out, [InterfaceSpec("mn0")])
        for i, data in enumerate(frames):
            writer.write(0, (1_700_000_000 + i) * 1_000_000_000, data)
    return path


def test_malformed_messages_get_wiresharks_expert_info(tmp_path: Path) -> None:
    require_tool("tshark")
    findings = second_opinion(broken_capture(tmp_path / "broken.pcapng"), range(1, 7), Dialect.RFC5648)
    assert {f["source"] for f in findings} == {"wireshark"}
    experts = sorted((f["frame"], f["severity"], f["section"], f["message"]) for f in findings
                     if f["rule"] == "WS-EXPERT")
    assert experts == [
        (3, "error", "Malformed", "Wireshark: Malformed Packet (Exception occurred)"),
        (4, "error", "Malformed", "Wireshark: Malformed Packet (Exception occurred)"),
        (4, "warning", "Protocol", "Wireshark: Nonce Indices (with option length = 2 bytes; should be 4)"),
        (5, "error", "Checksum", f"Wireshark: Bad checksum [should be {_right_checksum(UDP_CHECKSUM_AT)}]"),
        (6, "error", "Checksum", f"Wireshark: Bad checksum [should be {_right_checksum(IPV4_CHECKSUM_AT)}]"),
    ]
    known = [(f["frame"], f["message"]) for f in findings if f["rule"] == "WS-KNOWN"]
    expected = f"checksum status: mcoaviz incorrect, Wireshark not verified (known: {KNOWN_CHECKSUM})"
    assert known == [(2, expected)]
    # Wireshark reads the 2-byte Nonce Indices option partly; mcoaviz keeps it raw.
    differences = [(f["frame"], f["message"]) for f in findings if f["rule"] == "WS-DIFF"]
    assert differences == [(4, "mip6.ni.hni: mcoaviz (none), Wireshark 1")]


@pytest.mark.parametrize(("name", "dialect", "known"), [
    ("refresh-expiry-rfc5648.pcapng", Dialect.RFC5648, KNOWN_O_FLAG),
    ("figure8-draft05.pcapng", Dialect.DRAFT05, KNOWN_BID_DRAFT),  # ESP-NULL, RR, route optimisation
])
def test_a_clean_sample_gets_only_documented_differences(name: str, dialect: Dialect, known: str) -> None:
    require_tool("tshark")
    from mcoaviz.pipeline import analyse

    analysis = analyse(SAMPLES / name)
    frames = [row["frame"] for row in analysis.messages]
    findings = second_opinion(SAMPLES / name, frames, dialect)
    assert findings, "the BU's O flag / draft BID flags are always a known difference"
    assert {f["rule"] for f in findings} == {"WS-KNOWN"}
    assert {f["message"].split(" (known: ")[1] for f in findings} == {known + ")"}


def test_check_wireshark_merges_findings_into_json(capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("tshark")
    code = main(["check", str(SAMPLES / "violations-rfc5648.pcapng"), "--wireshark", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # the capture's own errors
    ours = [f for f in out["findings"] if f.get("source") != "wireshark"]
    wireshark = [f for f in out["findings"] if f.get("source") == "wireshark"]
    assert {f["rule"] for f in ours} >= {"MCOA901", "MCOA111"}
    checksum = [f["frame"] for f in wireshark if f["message"].startswith("checksum status")]
    assert checksum == [229, 230]  # the bad checksum, seen at two capture points
    groups = {g["rule"]: g for g in out["groups"]}
    assert groups["WS-KNOWN"]["name"] == "WiresharkKnownDifference" and groups["WS-KNOWN"]["count"] == 4


def test_check_wireshark_without_tshark_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no tshark
    code = main(["check", str(SAMPLES / "nemo-rfc5648.pcapng"), "--wireshark"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "apt-get install tshark" in err and "Traceback" not in err


def test_check_wireshark_refuses_standard_input() -> None:
    require_tool("tshark")
    data = (SAMPLES / "nemo-rfc5648.pcapng").read_bytes()
    done = subprocess.run([sys.executable, "-m", "mcoaviz", "check", "-", "--wireshark"], input=data,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        "mcoaviz check: error: --wireshark needs a capture file (tshark reads it again), not a pipe"]


def test_extract_frames_copies_only_the_wanted_frames(tmp_path: Path) -> None:
    from mcoaviz.sources import read_frames
    from mcoaviz.wireshark import extract_frames

    source = SAMPLES / "violations-rfc5648.pcapng"
    originals = {f.number: f for f in read_frames(source)[0]}
    numbers, messages = extract_frames(source, [230, 25, 229, 3], tmp_path / "subset.pcapng", Dialect.RFC5648)
    assert numbers == [3, 25, 229, 230]  # capture order
    copied, _ = read_frames(tmp_path / "subset.pcapng")
    assert [(f.data, f.wire_length, f.linktype) for f in copied] == [
        (originals[n].data, originals[n].wire_length, originals[n].linktype) for n in numbers]
    # one capture interface per original one, in first-seen order
    assert len({f.interface for f in copied}) == len({originals[n].interface for n in numbers})
    assert sorted(messages) == [25, 229, 230]  # frame 3 carries no Mobility Header
    assert messages[229].checksum_ok is False


def test_fields_wireshark_leaves_out_of_a_snapped_message_are_not_differences() -> None:
    require_tool("tshark")
    capture = require_shared() / "tcpdump" / "mobility_opt_asan_6.pcap"
    # Frame 2: a BU cut by the snap length after one Binding Refresh Advice, which mcoaviz reads
    # and Wireshark does not ("Packet size limited during capture").
    findings = second_opinion(capture, [1, 2], Dialect.RFC5648)
    assert [(f["frame"], f["rule"]) for f in findings] == [(1, "WS-KNOWN"), (2, "WS-KNOWN")]
    assert all(KNOWN_O_FLAG in f["message"] for f in findings)


def test_each_frame_is_compared_in_its_pairs_dialect() -> None:
    from mcoaviz.pipeline import analyse
    from mcoaviz.wireshark import analysis_second_opinion, frame_dialects

    sample = SAMPLES / "two-dialects-one-ha-mixed.pcapng"
    analysis = analyse(sample)
    dialects = frame_dialects(analysis)
    by_hoa = {(m["hoa"] or "CoTI/CoT", dialects[m["frame"]]) for m in analysis.messages}
    # the draft node's care-of tests (no home address in them) are joined to it through its CoAs
    assert by_hoa == {("2001:db8:1::100", Dialect.RFC5648), ("2001:db8:1::200", Dialect.DRAFT05),
                      ("CoTI/CoT", Dialect.DRAFT05)}
    require_tool("tshark")
    findings = analysis_second_opinion(sample, analysis)
    known = {f["message"].split(" (known: ")[1] for f in findings}
    # the RFC node's O flag and the draft node's C flag: both documented, nothing else
    assert {f["rule"] for f in findings} == {"WS-KNOWN"}
    assert known == {KNOWN_O_FLAG + ")", KNOWN_BID_DRAFT + ")"}


def test_second_opinion_after_an_event_loop_was_closed_and_unset() -> None:
    # the TUI's asyncio.run() leaves the main thread without a current loop; pyshark needs one
    require_tool("tshark")
    import asyncio

    asyncio.run(asyncio.sleep(0))
    asyncio.set_event_loop(None)
    from mcoaviz.wireshark import read_wireshark

    frames = read_wireshark(SAMPLES / "figure8-rfc5648.pcapng")
    assert frames[1].fields.get("mip6.bu.seqnr")  # frame 1 is the first BU
