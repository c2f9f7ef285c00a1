"""mcoaviz.outfile: a file or folder is written whole or not at all, beside its target."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mcoaviz.outfile import OutputError, atomic_file, atomic_folder


def test_file_replaces_the_target_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as out:
        out.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.json"]
    with atomic_file(target) as out:
        out.write("new")
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["out.json"]


def test_file_gets_the_usual_permissions_and_binary_mode_works(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "x.bin", "wb") as out:
            out.write(b"\0\1")
    finally:
        os.umask(mask)
    assert (tmp_path / "x.bin").read_bytes() == b"\0\1"
    assert stat.S_IMODE((tmp_path / "x.bin").stat().st_mode) == 0o644


def test_missing_parent_and_directory_target_are_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "x"
    with pytest.raises(OutputError, match=r"directory .*/nope does not exist"), atomic_file(missing):
        pass
    with pytest.raises(OutputError, match="it is a directory"), atomic_file(tmp_path):
        pass
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="exists and is not a directory"), atomic_folder(tmp_path / "file"):
        pass


def test_new_folder_appears_whole(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), atomic_folder(tmp_path / "tables") as folder:
        (folder / "a.csv").write_text("1")
        raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == []
    with atomic_folder(tmp_path / "tables") as folder:
        (folder / "a.csv").write_text("1")
    assert os.listdir(tmp_path) == ["tables"]
    assert (tmp_path / "tables" / "a.csv").read_text() == "1"


def test_a_symlink_keeps_pointing_at_the_new_content(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    (tmp_path / "link.json").symlink_to(real)
    with atomic_file(tmp_path / "link.json") as out:
        out.write("new")
    assert (tmp_path / "link.json").is_symlink()
    assert real.read_text() == "new"


def test_a_fifo_is_written_directly(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with atomic_file(fifo) as out:
            out.write("through")
        assert os.read(reader, 100) == b"through"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe"]
