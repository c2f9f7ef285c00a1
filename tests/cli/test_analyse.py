"""`mcoaviz analyse`: capture summary, caches, BULs, traffic and findings as text tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcoaviz.cli import main
from mcoaviz.cli.analyse import table
from tests.test_pipeline import COA1, COA2, HA, write_capture


def test_report_shows_caches_bul_traffic_and_dialect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    capture = write_capture(tmp_path / "c.pcapng")
    assert main(["analyse", str(capture)]) == 0
    out = capsys.readouterr().out
    assert "dialect     rfc5648 (" in out
    assert f"home-agent {HA}" in out
    cache = out.split("Binding caches")[1].split("Binding update lists")[0]
    lines = [line.split() for line in cache.splitlines() if COA1 in line or COA2 in line]
    assert [(c[1], c[2], c[4], c[5]) for c in lines] == [("1", COA1, "-", "valid"), ("2", COA2, "3.100",
                                                                                      "deregistered")]
    assert "Traffic per care-of address" in out and "to-mn" in out
    assert "Findings:" in out


def test_unreadable_input_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "x.pcap"
    bad.write_bytes(b"\x00" * 3)
    assert main(["analyse", str(bad)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_table_aligns_columns() -> None:
    lines = table(("a", "num"), [("xyz", 5), ("q", 123)], indent="")
    assert lines == ["a    num", "---  ---", "xyz    5", "q    123"]


def test_findings_are_grouped_by_severity(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SAMPLES

    capture = SAMPLES / "violations-rfc5648.pcapng"
    assert main(["analyse", str(capture)]) == 0
    findings = capsys.readouterr().out.split("Findings: ")[1]
    head, *lines = findings.splitlines()
    errors = int(head.split()[0])
    assert errors > 0 and lines[0] == " error"
    error_lines = lines[1:lines.index(" warning")] if " warning" in lines else lines[1:]
    assert len(error_lines) == min(errors, 50)
    assert all(line.split()[0].startswith("MCOA") and "frame" in line for line in error_lines)


def test_truncated_capture_says_where_it_was_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    whole = write_capture(tmp_path / "c.pcapng").read_bytes()
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(whole[: len(whole) - 10])
    assert main(["analyse", str(cut)]) == 0
    summary = capsys.readouterr().out.split("Binding caches")[0]
    assert "warning     capture truncated at byte" in summary


def test_summary_names_each_pairs_dialect_when_they_differ(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SAMPLES

    assert main(["analyse", str(SAMPLES / "two-dialects-one-ha-mixed.pcapng")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  pair")]
    assert [line.split(" (")[0] for line in lines] == [
        "  pair        2001:db8:1::100 <-> 2001:db8:1::1: rfc5648",
        "  pair        2001:db8:1::200 <-> 2001:db8:1::1: draft05",
        "  pair        2001:db8:1::200 <-> 2001:db8:c0::10: draft05"]


def test_summary_counts_pairs_of_one_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SAMPLES

    assert main(["analyse", str(SAMPLES / "return-routability-draft05.pcapng")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "  pairs       all 3 (mobile node, peer) pairs: draft05" in out
