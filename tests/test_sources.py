"""mcoaviz.sources: files, stdin, real OS pipes (packet by packet), and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcoaviz.sources import CaptureSourceError, open_capture, read_frames
from tests.dissector.capture.capture_bytes import epb, idb, packet, pcap_file, shb

PCAPNG = (
    shb()
    + idb("<", 1, name="eth0")
    + idb("<", 101)
    + b"".join(epb("<", i % 2, i * 1_000_000, packet(i)) for i in range(1, 6))
)


def test_reads_a_file_with_frames_interfaces_and_no_problems(tmp_path: Path) -> None:
    path = tmp_path / "c.pcapng"
    path.write_bytes(PCAPNG)
    frames, source = read_frames(path)
    assert [(f.number, f.interface, f.time, f.data) for f in frames] == [
        (i, i % 2, float(i), packet(i)) for i in range(1, 6)
    ]
    assert source.format == "pcapng" and source.problems == []
    assert source.interfaces[0].name == "eth0" and source.interfaces[1].linktype == 101


def test_records_point_into_the_mapped_file(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_file([(1, 0, packet(1), 60), (2, 0, packet(2), 60)]))
    with open_capture(path) as source:
        got = [(n, bytes(buf[off : off + cap])) for n, _, _, _, buf, off, cap, _ in source.records()]
    assert got == [(1, packet(1)), (2, packet(2))]


def test_truncated_file_warning_is_exposed(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcapng"
    path.write_bytes(PCAPNG[:-7])
    frames, source = read_frames(path)
    assert len(frames) == 4
    assert len(source.problems) == 1 and source.problems[0].severity == "warning"
    assert "truncated" in source.problems[0].reason


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureSourceError) as err:
        open_capture(tmp_path / "nope.pcap")
    assert "nope.pcap" in str(err.value) and "no such file" in str(err.value) and "\n" not in str(err.value)


def test_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureSourceError, match="directory"):
        open_capture(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="cannot run as root (CI runs as root): root reads files "
                    "whatever their mode; test_unreadable_file_as_root covers the message there")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.pcap"
    path.write_bytes(PCAPNG)
    path.chmod(0)
    with pytest.raises(CaptureSourceError, match="permission denied"):
        open_capture(path)


def test_unreadable_file_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # as root the kernel never refuses; make os.open refuse the way it does for other users
    path = tmp_path / "secret.pcap"
    path.write_bytes(PCAPNG)
    real_open = os.open

    def refuse(name: object, *args: object, **kwargs: object) -> int:
        if str(name) == str(path):
            raise PermissionError(13, "Permission denied", str(name))
        return real_open(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(CaptureSourceError) as caught:
        open_capture(path)
    assert str(caught.value) == f"cannot read {path}: permission denied"


def test_os_pipe_yields_each_packet_before_the_writer_is_done() -> None:
    read_fd, write_fd = os.pipe()
    try:
        source = open_capture(f"/dev/fd/{read_fd}")
        assert not source.seekable_file
        frames = source.frames()
        blocks = [shb() + idb(), *(epb("<", 0, i * 1_000_000, packet(i)) for i in range(1, 4))]
        os.write(write_fd, blocks[0] + blocks[1])
        first = next(frames)  # the writer is still open: this only works if we read as data arrives
        assert first.number == 1 and first.data == packet(1)
        os.write(write_fd, blocks[2])
        assert next(frames).number == 2
        os.write(write_fd, blocks[3] + blocks[3][:10])
        assert next(frames).number == 3
        os.close(write_fd)
        write_fd = -1
        assert list(frames) == []
        assert "truncated" in source.problems[-1].reason
        source.close()
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)


def test_named_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = subprocess.Popen(
        [sys.executable, "-c", f"open({str(fifo)!r}, 'wb').write(bytes.fromhex({PCAPNG.hex()!r}))"]
    )
    try:
        frames, source = read_frames(fifo)
    finally:
        writer.wait(timeout=30)
    assert [f.number for f in frames] == [1, 2, 3, 4, 5] and source.problems == []


def test_dash_reads_stdin() -> None:
    code = (
        "from mcoaviz.sources import read_frames\n"
        "frames, source = read_frames('-')\n"
        "print(len(frames), source.format, [f.time for f in frames][-1])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], input=PCAPNG, capture_output=True, check=True)
    assert out.stdout.decode().split() == ["5", "pcapng", "5.0"]


def test_records_from_a_pipe_carry_their_own_bytes() -> None:
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, PCAPNG)
        os.close(write_fd)
        write_fd = -1
        with open_capture(f"/dev/fd/{read_fd}") as source:
            got = [(n, bytes(buf[off : off + cap])) for n, _, _, _, buf, off, cap, _ in source.records()]
        assert got == [(i, packet(i)) for i in range(1, 6)]
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)


def test_a_source_is_read_once(tmp_path: Path) -> None:
    path = tmp_path / "c.pcapng"
    path.write_bytes(PCAPNG)
    with open_capture(path) as source:
        assert len(list(source.frames())) == 5
        with pytest.raises(RuntimeError):
            list(source.records())
