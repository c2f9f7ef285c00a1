"""`mcoaviz check`: Expert-Info grouping, --json, --select, --fail-on and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dissector.encode import (
    binding_ack,
    binding_identifier,
    binding_update,
    ethernet_for,
    ipv6_packet,
    mac,
    mobility_header,
)
from mcoaviz.cli import main
from mcoaviz.simulate.pcapng import InterfaceSpec, PcapngWriter

HOA, HA = "2001:db8:a::100", "2001:db8:a::1"
COA1, COA2 = "2001:db8:1::100", "2001:db8:2::100"
MN_MAC, RT_MAC = mac("02:00:00:00:00:01"), mac("02:00:00:00:00:fe")
T0 = 1_700_000_000.0


def _bu(seq: int, bids: list, *flags: str) -> bytes:  # noqa: ANN001
    mh = mobility_header(binding_update(seq, 400, *flags), bids)
    return ethernet_for(RT_MAC, MN_MAC, ipv6_packet(COA1, HA, 135, mh, hao=HOA))


def _ba(seq: int, bids: list) -> bytes:  # noqa: ANN001
    mh = mobility_header(binding_ack(0, seq, 400), bids)
    return ethernet_for(MN_MAC, RT_MAC, ipv6_packet(HA, COA1, 135, mh, rh2=HOA))


def write(path: Path, frames: list[bytes]) -> Path:
    with path.open("wb") as out:
        writer = PcapngWriter(out, [InterfaceSpec("mn0")])
        for i, data in enumerate(frames):
            writer.write(0, int((T0 + i) * 1e9), data)
    return path


@pytest.fixture
def duplicate_bid(tmp_path: Path) -> Path:
    """Frame 1: BU with BID 1 twice (MCOA111, error); frame 2: its BA copying both."""
    bids = [binding_identifier(1, COA1), binding_identifier(1, COA2)]
    return write(tmp_path / "dup.pcapng", [_bu(1, bids, "A", "H", "O"),
                                           _ba(1, [binding_identifier(1), binding_identifier(1)])])


@pytest.fixture
def zero_bid(tmp_path: Path) -> Path:
    """Frame 1: BU with BID 0 (MCOA101: a warning in RFC 5648); frame 2: its BA."""
    return write(tmp_path / "zero.pcapng", [_bu(1, [binding_identifier(0, COA1)], "A", "H", "O"),
                                            _ba(1, [binding_identifier(0)])])


def test_groups_like_expert_info_and_exits_1_on_error(duplicate_bid: Path, capsys) -> None:  # noqa: ANN001
    assert main(["check", str(duplicate_bid), "--dialect", "rfc5648"]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "MCOA111" in line)
    assert line.split()[:4] == ["error", "§5.1", "MCOA111", "1"]
    assert "frames 1" in out and "[1] BID 1 appears more than once" in out


def test_rfc_capture_shows_the_rfc_section_where_it_differs(zero_bid: Path, capsys) -> None:  # noqa: ANN001
    main(["check", str(zero_bid), "--dialect", "rfc5648"])
    line = next(line for line in capsys.readouterr().out.splitlines() if "MCOA101" in line)
    assert line.split()[:4] == ["warning", "§2,", "§5.1", "MCOA101"]
    assert line.endswith("[RFC 5648 §4.3, §5.1]")


def test_warnings_pass_by_default_and_fail_with_fail_on_warning(zero_bid: Path) -> None:
    assert main(["check", str(zero_bid), "--dialect", "rfc5648"]) == 0
    assert main(["check", str(zero_bid), "--dialect", "rfc5648", "--fail-on", "warning"]) == 1


def test_json_output(duplicate_bid: Path, capsys) -> None:  # noqa: ANN001
    main(["check", str(duplicate_bid), "--json"])
    doc = json.loads(capsys.readouterr().out)
    found = [(f["rule"], f["frame"], f["severity"]) for f in doc["findings"] if f["rule"] == "MCOA111"]
    assert found == [("MCOA111", 1, "error")]
    assert {"rule", "section", "severity", "frame", "message", "rfc_section", "time", "hoa", "bid"} <= \
        set(doc["findings"][0])
    assert doc["groups"][0]["severity"] == "error"


def test_select_filters_findings(duplicate_bid: Path, capsys) -> None:  # noqa: ANN001
    assert main(["check", str(duplicate_bid), "--json", "--select", "MCOA9"]) == 0
    assert all(f["rule"].startswith("MCOA9") for f in json.loads(capsys.readouterr().out)["findings"])


def test_bad_select_and_unreadable_capture_exit_2(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    bad = tmp_path / "x.pcap"
    bad.write_bytes(b"\x00" * 3)
    assert main(["check", str(bad)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["check", str(bad), "--select", "NOPE"]) == 2
    assert "matches no rule" in capsys.readouterr().err


def test_pairs_of_the_other_dialect_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SAMPLES

    sample = str(SAMPLES / "two-dialects-one-ha-mixed.pcapng")
    assert main(["check", sample]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:3] == ["  but 2001:db8:1::200 <-> 2001:db8:1::1: draft05 (own evidence)",
                          "  but 2001:db8:1::200 <-> 2001:db8:c0::10: draft05 (same mobile node)"]
    assert main(["check", "--json", sample]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["dialect"] for d in data["dialects"]] == ["rfc5648", "draft05", "draft05"]
