"""`mcoaviz decode`: list lines, -V tree, --json records, dialect choice, errors."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from mcoaviz.cli import main
from tests.dissector.handbuilt import (
    HA,
    MN_COA,
    MN_HOA,
    a4,
    a6,
    ba_body,
    bid,
    bu_body,
    dest_opts_hao,
    ethernet,
    ipv6,
    mh,
    padn,
)


def write_pcap(path: Path, frames: list[bytes]) -> Path:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, data in enumerate(frames):
        out += struct.pack("<IIII", 1_700_000_000 + i, 250_000, len(data), len(data)) + data
    path.write_bytes(out)
    return path


def bu_frame(options: bytes, flags: int = 0xC000, seq: int = 7) -> bytes:
    body = bu_body(seq, flags, 100) + options
    return ethernet(ipv6(MN_COA, HA, 60, dest_opts_hao(135, MN_HOA) + mh(5, body, src=MN_HOA, dst=HA)))


def ba_frame(status: int, options: bytes, seq: int = 7) -> bytes:
    body = ba_body(status, 0, seq, 100) + options
    return ethernet(ipv6(HA, MN_HOA, 135, mh(6, body, src=HA, dst=MN_HOA)))


RFC_BU = padn(6) + bid(1, coa=a6(MN_COA)) + padn(2) + bid(2, flags=0x80, coa=a6(MN_HOA))  # O flag below
DRAFT_BU = padn(6) + bid(1, flags=0x90, coa=a4("198.51.100.9")) + padn(4)  # C+D with an IPv4 CoA


@pytest.fixture
def rfc_capture(tmp_path: Path) -> Path:
    frames = [ethernet(b"\0" * 40, 0x0806), bu_frame(RFC_BU, flags=0xC040),
              ba_frame(4, padn(4) + bid(1, status=0) + bid(2, status=169))]
    return write_pcap(tmp_path / "rfc.pcap", frames)


def test_one_line_per_message(rfc_capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "--dialect", "rfc5648", str(rfc_capture)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2 and err == ""
    assert lines[0].split()[:2] == ["2", "1.000000"]
    assert f"{MN_COA} -> {HA}" in lines[0] and " BU " in lines[0]
    assert "seq=7 lifetime=400s" in lines[0] and "flags=AHO" in lines[0]
    assert f"BID 1 coa={MN_COA}; BID 2 coa={MN_HOA} H" in lines[0]
    assert "BA" in lines[1] and "status=4 (MCOA NOTCOMPLETE)" in lines[1]
    assert "BID 2 status=169 (MCOA SIMULTANEOUS HOME AND FOREIGN PROHIBITED)" in lines[1]


def test_detail_tree(rfc_capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "-V", "--dialect", "rfc5648", str(rfc_capture)]) == 0
    out = capsys.readouterr().out
    assert "  Mobility Header: BU (type 5)" in out and "[correct]" in out
    assert f"    Home Address option: {MN_HOA}" in out
    assert "      Binding Identifier (35) at MH offset 18: Length 20, BID 1, Status 0" in out
    assert "    Lifetime: 400 s (100 x 4 s)" in out


def test_json_records(rfc_capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "--json", str(rfc_capture)]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert [r["type"] for r in rows] == ["BU", "BA"] and [r["frame"] for r in rows] == [2, 3]
    assert rows[0]["flags"] == ["A", "H", "O"] and rows[0]["hoa"] == MN_HOA
    assert [b["flags"] for b in rows[0]["bids"]] == [[], ["H"]]
    assert err.startswith("dialect: rfc5648 (BU frame 2 has BU flag 0x0040 with a BID option")


def test_auto_detects_draft05_and_rereads_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frames = [bu_frame(DRAFT_BU), ba_frame(0, padn(4) + bid(1, flags=0x90))]
    capture = write_pcap(tmp_path / "draft.pcap", frames)
    assert main(["decode", "--json", str(capture)]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert [b["flags"] for r in rows for b in r["bids"]] == [["C", "D"], ["C", "D"]]
    why = "BU frame 1 BID 1 has Length 8 with flags 0x90 (draft C+D; an RFC H binding needs an IPv6 CoA)"
    assert err.splitlines() == [f"dialect: draft05 ({why})",
                                f"dialect of {MN_HOA} <-> {HA}: draft05 (own evidence: {why})"]
    assert main(["decode", "--json", "--dialect", "rfc5648", str(capture)]) == 0
    forced = json.loads(capsys.readouterr().out)
    assert forced[0]["bids"][0]["flags"] == ["H"]


def test_bid_type_and_udp_port_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = write_pcap(tmp_path / "t7.pcap", [bu_frame(bid(3, kind=7) + padn(6))])
    assert main(["decode", "--json", "--bid-type", "7", str(capture)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["bids"][0]["bid"] == 3


def test_empty_capture_prints_an_empty_json_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = write_pcap(tmp_path / "none.pcap", [ethernet(b"\0" * 40, 0x0806)])
    assert main(["decode", "--json", str(capture)]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_missing_file_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(tmp_path / "nope.pcap")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err


def test_not_a_capture_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "bogus.pcap"
    bogus.write_text("hello, this is not a capture\n")
    assert main(["decode", str(bogus)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a pcap or pcapng file" in err


def test_udp_port_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.dissector.handbuilt import ipv4, udp

    inner = ipv6(MN_HOA, HA, 135, mh(5, bu_body(9, 0x8000, 10), src=MN_HOA, dst=HA))
    capture = write_pcap(tmp_path / "udp.pcap", [ethernet(ipv4("198.51.100.9", "203.0.113.1", 17,
                                                                udp(6000, 6000, inner)), 0x0800)])
    assert main(["decode", "--json", str(capture)]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["decode", "--json", "--udp-port", "6000", str(capture)]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["seq"], row["outer_src"], row["tunnel"]) == (9, "198.51.100.9", "udp")


def test_fragmented_bu_is_listed_once_reassembled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = bu_body(11, 0x8000, 10) + padn(6)
    for n in range(1, 6):
        body += bid(n, coa=a6(f"2001:db8:{n}::1")) + padn(2)
    payload = dest_opts_hao(135, MN_HOA) + mh(5, body, src=MN_HOA, dst=HA)
    frames = []
    for offset in range(0, len(payload), 80):
        more = offset + 80 < len(payload)
        header = struct.pack("!BBHI", 60, 0, offset | int(more), 5)
        frames.append(ethernet(ipv6(MN_COA, HA, 44, header + payload[offset : offset + 80])))
    capture = write_pcap(tmp_path / "frag.pcap", frames + [frames[0][:70]])  # plus a lone stray piece
    assert main(["decode", "--json", str(capture)]) == 0
    out, err = capsys.readouterr()
    (row,) = json.loads(out)
    assert row["frame"] == len(frames) and row["seq"] == 11 and len(row["bids"]) == 5
    assert row["checksum_ok"] is True
    assert "1 fragmented datagram(s) could not be reassembled" in err


def test_each_pair_says_its_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SAMPLES

    assert main(["decode", "-q", "-V", str(SAMPLES / "two-dialects-one-ha-mixed.pcapng")]) == 0
    out, err = capsys.readouterr()
    pairs = [line for line in err.splitlines() if line.startswith("dialect of ")]
    assert [line.split(" (")[0] for line in pairs] == [
        "dialect of 2001:db8:1::100 <-> 2001:db8:1::1: rfc5648",
        "dialect of 2001:db8:1::200 <-> 2001:db8:1::1: draft05",
        "dialect of 2001:db8:1::200 <-> 2001:db8:c0::10: draft05"]
    # the draft node's C flag is shown as C, the RFC node's BIDs carry no flag letters
    assert "[C] (draft05)" in out and "(rfc5648)" in out


def test_a_home_agents_many_pairs_in_one_dialect_are_counted_not_listed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 40 mobile nodes, one pair each with the home agent, all RFC 5648: 20 lines, then a count
    path = tmp_path / "s40.pcapng"
    assert main(["simulate", "scale", "--mobile-nodes", "40", "--coas", "2", "--duration", "4",
                 "--rate", "400", "-o", str(path)]) == 0
    capsys.readouterr()
    assert main(["decode", "-q", "--json", str(path)]) == 0
    out, err = capsys.readouterr()
    assert {row["hoa"] for row in json.loads(out)} and len({row["hoa"] for row in json.loads(out)}) == 40
    assert len([line for line in err.splitlines() if line.startswith("dialect of ")]) == 20
    assert "dialect: 20 more (mobile node, peer) pairs in rfc5648 not listed" in err


class _CountingStdout:
    """A stdout that records each write (what an unbuffered stdout turns into a system call)."""

    def __init__(self, tty: bool = False) -> None:
        self.writes: list[str] = []
        self.tty = tty

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("mode", [["--json"], ["-V"], []])
def test_a_file_is_written_in_chunks_a_terminal_per_message(
        mode: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import mcoaviz.cli.decode as decode_cli

    path = Path(__file__).parents[2] / "sample-captures" / "handover-storm-rfc5648.pcapng"

    def writes(tty: bool, chunk: int) -> list[str]:
        monkeypatch.setattr(decode_cli, "CHUNK", chunk)
        out = _CountingStdout(tty)
        monkeypatch.setattr("sys.stdout", out)
        assert main(["decode", str(path), "--quiet", *mode]) == 0
        return out.writes

    per_message = writes(True, 1 << 16)
    whole = "".join(per_message)
    messages = whole.count('"frame"') if mode == ["--json"] else whole.count("\n  Frame ") if mode else \
        whole.count("\n")
    assert messages == 52 and len(per_message) >= messages  # a terminal sees each message at once
    assert writes(False, len(whole) + 1) == [whole]  # a file: one write while the text is below CHUNK
    small = writes(False, len(whole) // 5)
    assert "".join(small) == whole and 5 <= len(small) <= 6
    assert all(len(part) >= len(whole) // 5 for part in small[:-1])
