"""`mcoaviz export`: JSON object / CSV folder with the contract tables; clean failure on bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mcoaviz.cli import main
from tests.test_pipeline import COA1, COA2, T0, write_capture


def test_json_export_to_a_file(tmp_path: Path) -> None:
    capture = write_capture(tmp_path / "c.pcapng")
    out = tmp_path / "c.json"
    assert main(["export", str(capture), "--format", "json", "-o", str(out), "--dialect", "rfc5648"]) == 0
    data = json.loads(out.read_text())
    assert data["capture"]["dialect"] == "rfc5648"
    assert [(b["bid"], b["coa"], b["end_reason"]) for b in data["bindings"]] == [
        (1, COA1, None), (2, COA2, "deregistered")]
    assert data["bindings"][1]["end"] == pytest.approx(T0 + 3.1, abs=1e-3)
    assert [m["type"] for m in data["messages"]] == ["BU", "BA", "BU", "BA"]
    assert {t["direction"] for t in data["traffic"]} == {"to-mn"}
    assert data["findings"] == []  # a clean registration and de-registration


def test_json_export_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    capture = write_capture(tmp_path / "c.pcapng")
    assert main(["export", str(capture)]) == 0
    data = json.loads(capsys.readouterr().out)
    # the MN's list: both BIDs sent in frame 1 and acknowledged; BID 2 de-registered by frame 7
    got = [(r["bid"], r["coa"], r["acknowledged"], r["end_reason"], r["end"]) for r in data["bul"]]
    assert got == [(1, COA1, True, None, None), (2, COA2, True, "deregistered", pytest.approx(T0 + 3.1))]
    assert data["capture"]["frames"] == 8


def test_csv_export_writes_one_file_per_table(tmp_path: Path) -> None:
    capture = write_capture(tmp_path / "c.pcapng")
    folder = tmp_path / "tables"
    assert main(["export", str(capture), "--format", "csv", "-o", str(folder)]) == 0
    names = {p.name for p in folder.iterdir()}
    assert {"bindings.csv", "bul.csv", "traffic.csv", "messages.csv", "findings.csv"} <= names
    with (folder / "bindings.csv").open() as f:
        rows = list(csv.DictReader(f))
    got = [(r["bid"], r["coa"], r["end_reason"]) for r in rows]
    assert got == [("1", COA1, ""), ("2", COA2, "deregistered")]
    with (folder / "traffic.csv").open() as f:
        assert sum(int(r["packets"]) for r in csv.DictReader(f)) == 4


def test_unreadable_capture_gives_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "bad.pcapng"
    bad.write_bytes(b"garbage garbage garbage")
    assert main(["export", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read" in err[0]
    assert main(["export", str(tmp_path / "missing.pcap")]) == 2


def test_dialects_table_in_json_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SAMPLES

    sample = str(SAMPLES / "two-dialects-one-ha-mixed.pcapng")
    assert main(["export", sample]) == 0
    rows = json.loads(capsys.readouterr().out)["dialects"]
    assert [(r["hoa"], r["peer"], r["dialect"], r["basis"]) for r in rows] == [
        ("2001:db8:1::100", "2001:db8:1::1", "rfc5648", "own evidence"),
        ("2001:db8:1::200", "2001:db8:1::1", "draft05", "own evidence"),
        ("2001:db8:1::200", "2001:db8:c0::10", "draft05", "same mobile node")]
    folder = tmp_path / "csv"
    assert main(["export", sample, "--format", "csv", "-o", str(folder)]) == 0
    with (folder / "dialects.csv").open(newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == ["hoa", "peer", "dialect", "basis", "reason", "first_frame", "messages"]
    assert [row[2] for row in table[1:]] == ["rfc5648", "draft05", "draft05"]


@pytest.mark.parametrize("command", ["export", "analyse"])
def test_no_room_for_the_message_spool_is_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mcoaviz import rowspool

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    capture = write_capture(tmp_path / "c.pcapng")
    monkeypatch.setattr(rowspool.tempfile, "TemporaryFile", full)
    assert main([command, str(capture), "-q"] if command == "export" else [command, str(capture)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mcoaviz {command}: cannot keep message rows in a temporary file")
    assert "No space left on device" in err and "TMPDIR" in err and "Traceback" not in err


@pytest.mark.parametrize(("command", "extra", "history"), [
    ("export", ["--format", "json", "-o", "OUT"], "read"),
    ("export", ["--format", "json", "-o", "OUT", "--at", "1"], "all"),  # --at replays every kind
    ("analyse", [], "read"),
    ("analyse", ["--at", "1"], "all"),
    ("check", [], "read"),
])
def test_commands_keep_only_the_history_they_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, extra: list[str], history: str,
) -> None:
    import mcoaviz.pipeline as pipeline

    capture = write_capture(tmp_path / "c.pcapng")
    seen: list[str] = []
    real = pipeline.Pipeline.__init__

    def spy(self: pipeline.Pipeline, options: pipeline.AnalysisOptions | None = None,
            name: str | None = None) -> None:
        seen.append((options or pipeline.AnalysisOptions()).history)
        real(self, options, name)

    monkeypatch.setattr(pipeline.Pipeline, "__init__", spy)
    args = [str(tmp_path / "o.json") if a == "OUT" else a for a in extra]
    assert main([command, str(capture), *args]) in (0, 1)
    assert seen == [history]


def test_a_spool_error_outside_the_analysis_loader_is_its_own_message_not_an_output_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # any command: the top-level handler tells a temporary file's failure from stdout's
    from mcoaviz.cli import export as export_command
    from mcoaviz.engine.scratch import SpoolError

    def failing(args: object) -> int:
        raise SpoolError("cannot keep test rows in a temporary file (No space left on device); "
                         "set TMPDIR to a directory with room")

    monkeypatch.setattr(export_command, "run", failing)
    assert main(["export", str(write_capture(tmp_path / "c.pcapng"))]) == 2
    err = capsys.readouterr().err
    assert err == ("mcoaviz export: cannot keep test rows in a temporary file (No space left on "
                   "device); set TMPDIR to a directory with room\n")
