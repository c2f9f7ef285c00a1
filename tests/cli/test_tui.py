"""`mcoaviz tui` refuses what it cannot read before the screen starts: one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcoaviz.cli import main


@pytest.mark.parametrize("content, reason", [
    (b"garbage garbage garbage\n", "not a pcap or pcapng file"),
    (b"", "empty input"),
])
def test_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes,
                         reason: str) -> None:
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    assert main(["tui", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mcoaviz tui: cannot read {path}: {reason}")
    assert err.count("\n") == 1


def test_missing_file_directory_and_stdin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tui", str(tmp_path / "nope.pcapng")]) == 2
    assert capsys.readouterr().err == f"mcoaviz tui: cannot read {tmp_path / 'nope.pcapng'}: no such file\n"
    assert main(["tui", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"mcoaviz tui: cannot read {tmp_path}: it is a directory\n"
    assert main(["tui", "-"]) == 2
    assert "use 'mcoaviz live'" in capsys.readouterr().err
