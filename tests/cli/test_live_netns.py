"""Live capture end to end (root): two network namespaces joined by one veth pair per capture
interface of a sample capture; the sample is replayed into one side with raw sockets while
`mcoaviz live` captures the other side through dumpcap. Runs in CI (as root)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcoaviz.sources import read_frames
from tests.conftest import IN_CI, ROOT, SAMPLES, require_tool

SAMPLE = SAMPLES / "figure8-rfc5648.pcapng"
SPEED = 10.0  # the 27 s sample is replayed in under 3 s
MCOAVIZ = [sys.executable, "-c", "import sys; from mcoaviz.cli import main; sys.exit(main())"]


def _root_or_skip() -> None:
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("the live end-to-end tests need root in CI")
        pytest.skip("needs root (network namespaces)")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def namespaces() -> Iterator[tuple[str, str, list[str]]]:
    """(sender ns, capture ns, capture-side interface names); one veth pair per interface id."""
    _root_or_skip()
    require_tool("ip")
    require_tool("dumpcap")
    tag = str(os.getpid() % 100000)
    tx, rx = f"mcoatx{tag}", f"mcoarx{tag}"
    _, source = read_frames(SAMPLE)
    ids = sorted(source.interfaces)
    made = subprocess.run(["ip", "netns", "add", tx], capture_output=True, text=True)
    if made.returncode != 0:
        why = f"cannot create a network namespace: {made.stderr.strip()}"
        pytest.fail(why) if IN_CI else pytest.skip(why)
    try:
        _ip("netns", "add", rx)
        for ns in (tx, rx):
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"],
                           check=False, capture_output=True)
        for i in ids:
            _ip("link", "add", f"t{tag}x{i}", "netns", tx, "type", "veth", "peer", "name", f"r{tag}x{i}",
                "netns", rx)
            _ip("-n", tx, "link", "set", f"t{tag}x{i}", "up")
            _ip("-n", rx, "link", "set", f"r{tag}x{i}", "up")
        yield tx, rx, [f"r{tag}x{i}" for i in ids]
    finally:
        subprocess.run(["ip", "netns", "del", tx], check=False, capture_output=True)
        subprocess.run(["ip", "netns", "del", rx], check=False, capture_output=True)


def _replay(tx: str, tag_ifaces: list[str]) -> None:
    maps = []
    for name in tag_ifaces:
        i = name.rsplit("x", 1)[1]
        maps += ["--map", f"{i}={name.replace('r', 't', 1)}"]
    subprocess.run(["ip", "netns", "exec", tx, sys.executable, str(ROOT / "scripts" / "replay_raw.py"),
                    str(SAMPLE), "--speed", str(SPEED), *maps], check=True, capture_output=True, timeout=60)


def _wait_for_line(proc: subprocess.Popen[bytes], text: str, deadline: float) -> str:
    assert proc.stderr is not None
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], deadline - time.monotonic())
        if not ready:
            break
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
        if text.encode() in seen:
            return seen.decode()
    pytest.fail(f"mcoaviz live did not say {text!r} in time; said: {seen.decode()!r}")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _truth_bindings() -> set[tuple[str, str, int | None, str]]:
    truth = json.loads(SAMPLE.with_suffix("").with_suffix(".truth.json").read_text())
    return {(b["node"], b["hoa"], b["bid"], b["coa"]) for b in truth["bindings"]}


def test_live_no_tui_export_equals_truth(namespaces: tuple[str, str, list[str]], tmp_path: Path) -> None:
    tx, rx, ifaces = namespaces
    out = tmp_path / "live.json"
    saved = tmp_path / "saved.pcapng"
    cmd = ["ip", "netns", "exec", rx, *MCOAVIZ, "live", "--no-tui", "--export", str(out), "-w", str(saved)]
    for name in ifaces:
        cmd += ["-i", name]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        _wait_for_line(proc, "capturing on", time.monotonic() + 20)
        dumpcap = _children(proc.pid)
        _replay(tx, ifaces)
        deadline = time.monotonic() + 10
        # the capture is complete once the saved file holds every replayed frame
        expected = len(read_frames(SAMPLE)[0])
        while time.monotonic() < deadline and (not saved.exists() or _frames_in(saved) < expected):
            select.select([], [], [], 0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
    data = json.loads(out.read_text())
    got = {(b["node"], b["hoa"], b["bid"], b["coa"]) for b in data["bindings"]}
    assert got == _truth_bindings()
    assert len(data["capture"]["interfaces"]) == len(ifaces)
    for pid in dumpcap:  # SIGTERM stopped dumpcap and reaped it
        assert not Path(f"/proc/{pid}").exists(), f"dumpcap {pid} left running"


def _frames_in(path: Path) -> int:
    try:
        return len(read_frames(path)[0])
    except Exception:  # a file still being written may end mid-block
        return 0


def test_live_tui_in_tmux_shows_hoa_and_coas(namespaces: tuple[str, str, list[str]], tmp_path: Path) -> None:
    tx, rx, ifaces = namespaces
    tmux = require_tool("tmux")
    session = f"mcoalive{os.getpid()}"
    command = " ".join(["ip", "netns", "exec", rx, *[_quote(c) for c in MCOAVIZ], "live",
                        *[f"-i {name}" for name in ifaces]])
    env = dict(os.environ, TERM="xterm-256color", PYTHONPATH=str(ROOT))
    subprocess.run([tmux, "new-session", "-d", "-s", session, "-x", "160", "-y", "45", command],
                   check=True, env=env, cwd=ROOT)
    try:
        _poll_pane(tmux, session, ["LIVE"], time.monotonic() + 20)
        _replay(tx, ifaces)
        sent = time.monotonic()
        expected = ["2001:db8:1::100", "2001:db8:a1::100", "2001:db8:a2::100", "2001:db8:a3::100"]
        _poll_pane(tmux, session, expected, sent + 2.0)
        subprocess.run([tmux, "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(tmux, session):
            select.select([], [], [], 0.1)
        assert not _alive(tmux, session), "q did not end mcoaviz live"
        leftover = subprocess.run(["ip", "netns", "pids", rx], capture_output=True, text=True).stdout.split()
        assert leftover == [], f"processes left in the capture namespace: {leftover}"
    finally:
        subprocess.run([tmux, "kill-session", "-t", session], check=False, capture_output=True)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _alive(tmux: str, session: str) -> bool:
    return subprocess.run([tmux, "has-session", "-t", session], capture_output=True).returncode == 0


def _poll_pane(tmux: str, session: str, texts: list[str], deadline: float) -> str:
    pane = ""
    while True:
        pane = subprocess.run([tmux, "capture-pane", "-p", "-t", session], capture_output=True,
                              text=True).stdout
        if all(t in pane for t in texts):
            return pane
        if time.monotonic() > deadline:
            pytest.fail(f"the TUI did not show {texts} in time; screen:\n{pane}")
        select.select([], [], [], 0.05)
