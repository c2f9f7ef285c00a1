"""Issue 13 §2-§7: every command on a hostile file ends with a clear message and status 2, or
a partial result with a warning; never a traceback, never raw control characters on screen."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from mcoaviz.cli import main
from tests.conftest import SAMPLES
from tests.hostile import files
from tests.hostile.conftest import run_process

SAMPLE = SAMPLES / "figure8-rfc5648.pcapng"
# C0 controls but newline, DEL, C1 controls: what a terminal acts on
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@pytest.mark.parametrize("command", [["analyse"], ["decode", "-V"], ["check"], ["export"]])
def test_escape_sequences_in_interface_names_never_reach_the_terminal(
        command: list[str], write, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    path = write("names.pcapng", files.escape_names())
    assert main([*command, str(path)]) == 0
    out = capsys.readouterr()
    assert not RAW_CONTROL.search(out.out), repr(out.out)
    assert not RAW_CONTROL.search(out.err), repr(out.err)


def test_analyse_shows_the_name_escaped_in_the_summary_and_the_seen_at_column(
        write, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    path = write("names.pcapng", files.escape_names())
    assert main(["analyse", str(path)]) == 0
    shown = r"eth\x1b[31mRED\x1b]0;pwned\x07\x0d\x08\x9b2J"
    lines = [line for line in capsys.readouterr().out.splitlines() if shown in line]
    assert len(lines) == 2
    assert lines[0].startswith("  frames      3 on 1 interface(s): ")
    assert lines[1].split()[-3:] == ["tunnel", "1", "94"]


@pytest.mark.parametrize(("resolution", "stamp", "offset"), [
    (0, (1 << 64) - 1, None), (0x80, (1 << 64) - 1, None), (6, 1000, (1 << 63) - 1)])
def test_timestamps_outside_the_calendar_do_not_crash_analyse(
        resolution: int, stamp: int, offset: int | None, write,  # noqa: ANN001
        capsys: pytest.CaptureFixture[str]) -> None:
    path = write("time.pcapng", files.tsresol(resolution, stamp, offset))
    assert main(["analyse", str(path)]) == 0
    summary = capsys.readouterr().out.splitlines()[2]
    assert summary.startswith("  time span   0.000 s from ")
    assert "s since the epoch (outside the calendar)" in summary


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("command", [["analyse"], ["decode", "-V"], ["check", "--json"], ["export"]])
def test_a_full_disk_on_stdout_is_one_line_and_exit_2(command: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        done = run_process(*command, str(SAMPLE), stdout=full.fileno())
    assert done.returncode == 2
    errors = [line for line in done.stderr.decode().splitlines() if not line.startswith("dialect")]
    assert len(errors) == 1 and "No space left on device" in errors[0], done.stderr
    assert errors[0].startswith(f"mcoaviz {command[0]}: ")
    assert "None" not in errors[0]


def test_endless_zeros_on_stdin_end_quickly_as_not_a_capture() -> None:
    with open("/dev/zero", "rb") as zeros:
        done = run_process("analyse", "-", stdin=zeros.fileno(), timeout=60)
    assert done.returncode == 2
    assert done.stderr.decode().strip() == (
        "mcoaviz analyse: cannot read -: not a pcap or pcapng file (magic 00000000)")


def test_a_stream_that_turns_corrupt_stops_reading_and_says_why() -> None:
    """A good capture, then a block of length 0, then endless zeros: the partial result, the
    reason, exit 2, and no reading to the end of the (endless) input."""
    head = files.capture([files.bu_frame(1)])
    proc = subprocess.Popen(["sh", "-c", "cat \"$0\"; exec cat /dev/zero", "/dev/stdin"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(head)
    proc.stdin.close()
    try:
        done = run_process("decode", "-", stdin=proc.stdout.fileno(), timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert done.returncode == 2
    assert done.stdout.decode().count(" BU ") == 1
    assert "mcoaviz decode: error: reading stopped at byte" in done.stderr.decode()
    assert "block length 0 is invalid; file is corrupt" in done.stderr.decode()


def test_simulate_scale_rejects_snaplen_out_of_range(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    for value in ("-5", "4294967296"):
        assert main(["simulate", "scale", "--snaplen", value, "-o", str(tmp_path / "s.pcapng")]) == 2
        assert capsys.readouterr().err.strip() == (
            "mcoaviz simulate: --snaplen must be between 0 (whole frames) and 262144")
    assert not (tmp_path / "s.pcapng").exists()


@pytest.mark.parametrize("command", [["decode"], ["analyse"], ["check"], ["export"], ["simulate", "x"]])
@pytest.mark.parametrize("value", ["-1", "999", "1"])
def test_bid_type_is_validated_alike_by_every_command(command: list[str], value: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, str(SAMPLE), "--bid-type", value][: len(command) + 3]
                if command[0] != "simulate" else [*command, "-o", "x.pcapng", "--bid-type", value]) == 2
    assert f"argument --bid-type: {value} is not an option type between 2 and 255" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["analyse", "decode", "check", "export"])
def test_pcapng_cut_inside_its_section_header_is_unreadable_like_pcap(
        command: str, write, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    pcapng = write("cut.pcapng", SAMPLE.read_bytes()[:20])
    pcap = write("cut.pcap", bytes.fromhex("d4c3b2a1") + b"\0" * 10)
    assert main([command, str(pcapng)]) == 2
    assert capsys.readouterr().err.strip().endswith("input ends inside the pcapng section header (20 bytes)")
    assert main([command, str(pcap)]) == 2
    assert capsys.readouterr().err.strip().endswith("input ends inside the file header (14 bytes)")


def test_check_reports_a_truncated_capture_as_a_finding_that_fail_on_sees(
        write, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    path = write("cut.pcapng", SAMPLE.read_bytes()[:3000])
    assert main(["check", str(path)]) == 0  # a warning: below the default --fail-on error
    assert main(["check", str(path), "--fail-on", "warning"]) == 1
    capsys.readouterr()
    assert main(["check", str(path), "--json", "--select", "MCOA1"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    capture = [f for f in findings if f["rule"] == "CAPTURE"]
    assert [(f["severity"], f["message"]) for f in capture] == [
        ("warning", "capture truncated at byte 2804: incomplete pcapng block (196 of 256 bytes)")]


def test_check_on_a_corrupt_capture_is_an_error_finding_and_exit_2(
        write, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    data = files.capture([files.bu_frame(1)]) + b"\x06\0\0\0\0\0\0\0" + b"\0" * 64
    path = write("corrupt.pcapng", data)
    assert main(["check", str(path)]) == 2
    out = capsys.readouterr()
    assert "CAPTURE" in out.out and "block length 0 is invalid; file is corrupt" in out.out
    assert "mcoaviz check: error: reading stopped at byte" in out.err


def test_export_never_leaves_a_truncated_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.json"
    target.write_text("previous good export\n")
    import mcoaviz.cli.export as export_cli

    def fail_halfway(analysis, out) -> None:  # noqa: ANN001
        out.write('{"capture": ')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_cli, "write_json", fail_halfway)
    assert main(["export", str(SAMPLE), "-o", str(target)]) == 2
    assert target.read_text() == "previous good export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    expected = f"mcoaviz export: cannot write {target}: No space left on device"
    assert capsys.readouterr().err.strip() == expected


def test_json_and_csv_export_treat_a_missing_parent_directory_alike(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no" / "such"
    assert main(["export", str(SAMPLE), "-o", str(missing / "x.json")]) == 2
    assert main(["export", str(SAMPLE), "--format", "csv", "-o", str(missing / "x.d")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        f"mcoaviz export: cannot write {missing / 'x.json'}: directory {missing} does not exist",
        f"mcoaviz export: cannot write {missing / 'x.d'}: directory {missing} does not exist"]
    assert not (tmp_path / "no").exists()


def test_csv_export_into_an_existing_folder_replaces_its_tables_and_keeps_other_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    (folder / "bindings.csv").write_text("old\n")
    import mcoaviz.cli.export as export_cli

    real = export_cli.write_csv_folder

    def fail_after_writing(analysis, where):  # noqa: ANN001, ANN202
        real(analysis, where)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_cli, "write_csv_folder", fail_after_writing)
    assert main(["export", str(SAMPLE), "--format", "csv", "-o", str(folder)]) == 2
    assert (folder / "bindings.csv").read_text() == "old\n"  # a failed export changes nothing
    monkeypatch.setattr(export_cli, "write_csv_folder", real)
    assert main(["export", str(SAMPLE), "--format", "csv", "-o", str(folder)]) == 0
    assert (folder / "notes.txt").read_text() == "mine\n"
    assert (folder / "bindings.csv").read_text().startswith("node,role,hoa,bid,coa,start,end,end_reason")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]


def test_simulate_refuses_a_missing_parent_directory_like_export(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no"
    assert main(["simulate", "deregistration", "-o", str(missing / "x.pcapng")]) == 2
    assert main(["simulate", "scale", "--mobile-nodes", "1", "--duration", "1", "--rate", "10",
                 "-o", str(missing / "s.pcapng")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"mcoaviz simulate: cannot write {missing / 'x.pcapng'}: directory {missing} does not exist",
        f"mcoaviz simulate: cannot write {missing / 's.pcapng'}: directory {missing} does not exist"]
    assert not missing.exists()
