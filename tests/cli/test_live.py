"""`mcoaviz live` without root: a stand-in dumpcap on PATH (a shell script) plays the real one's
part, so start-up errors, headless export and stopping are tested everywhere. The real dumpcap
runs in tests/cli/test_live_netns.py."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mcoaviz.cli import main
from mcoaviz.pipeline import analyse
from tests.conftest import ROOT, SAMPLES, require_tool

SAMPLE = SAMPLES / "figure8-rfc5648.pcapng"
PERMISSION_STDERR = """Capturing on 'lo'
dumpcap: You do not have permission to capture on device "lo".
(socket: Operation not permitted)
Please check to make sure you have sufficient permissions.
"""

Capture = pytest.CaptureFixture[str]
PathWith = Callable[[str], Path]  # puts a stand-in dumpcap running this shell body first on PATH


def fake_dumpcap(folder: Path, body: str) -> Path:
    path = folder / "dumpcap"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@pytest.fixture
def path_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PathWith:
    def use(body: str) -> Path:
        folder = tmp_path / "bin"
        folder.mkdir(exist_ok=True)
        fake = fake_dumpcap(folder, body)
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
        return fake
    return use


def test_missing_dumpcap_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["live", "-i", "eth0", "--no-tui"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "dumpcap not found" in err and "wireshark-common" in err


def test_capture_not_permitted_says_what_to_do(path_with: PathWith, capsys: Capture) -> None:
    fake = path_with(f"cat >&2 <<'END'\n{PERMISSION_STDERR}END\nexit 1\n")
    assert main(["live", "-i", "lo", "--no-tui"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "capture on lo is not permitted" in err
    assert "'wireshark' group" in err
    assert f"setcap cap_net_raw,cap_net_admin=eip {fake}" in err


def test_unknown_interface_is_a_one_line_error(path_with: PathWith, capsys: Capture) -> None:
    path_with("echo \"Capturing on 'nope'\" >&2\n"
              "echo 'dumpcap: There is no device named \"nope\".' >&2\n"
              "echo '(No such device exists)' >&2\nexit 1\n")
    assert main(["live", "-i", "nope", "--no-tui"]) == 2
    assert capsys.readouterr().err == 'mcoaviz live: dumpcap: There is no device named "nope".\n'


def test_headless_export_equals_the_file_analysis(path_with: PathWith, tmp_path: Path) -> None:
    path_with(f"exec cat '{SAMPLE}'\n")  # dumpcap's pcapng stream, then it ends
    out, saved = tmp_path / "live.json", tmp_path / "saved.pcapng"
    assert main(["live", "-i", "eth0", "--no-tui", "--export", str(out), "-w", str(saved)]) == 0
    data = json.loads(out.read_text())
    expected = analyse(SAMPLE)
    assert data["bindings"] == expected.bindings
    assert data["messages"] == expected.messages
    assert data["findings"] == expected.findings
    assert saved.read_bytes() == SAMPLE.read_bytes()
    truth = json.loads(SAMPLE.with_name("figure8-rfc5648.truth.json").read_text())
    assert {(b["node"], b["hoa"], b["bid"], b["coa"]) for b in data["bindings"]} == \
        {(b["node"], b["hoa"], b["bid"], b["coa"]) for b in truth["bindings"]}


def test_retain_keeps_a_window_of_history_and_the_bindings(path_with: PathWith, tmp_path: Path) -> None:
    storm = SAMPLES / "handover-storm-rfc5648.pcapng"  # 52 messages over 31.7 s
    path_with(f"exec cat '{storm}'\n")
    out = tmp_path / "live.json"
    assert main(["live", "-i", "eth0", "--no-tui", "--retain", "8", "--export", str(out)]) == 0
    data = json.loads(out.read_text())
    expected = analyse(storm)
    last = expected.capture["last_time"]
    assert data["capture"]["frames"] == expected.capture["frames"]
    # bindings in force and those that ended within the window are all there, as offline
    kept = [b for b in expected.bindings if b["end"] is None or b["end"] >= last - 8]
    assert all(b in expected.bindings for b in data["bindings"])
    assert all(b in data["bindings"] for b in kept)
    assert len(data["bindings"]) < len(expected.bindings)
    frames = {m["frame"] for m in data["messages"]}
    assert {m["frame"] for m in expected.messages if m["time"] >= last - 8} <= frames
    assert frames <= {m["frame"] for m in expected.messages}
    assert len(frames) < 52


def test_non_positive_retain_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", "-i", "lo", "--no-tui", "--retain", "0"]) == 2
    assert "--retain must be positive" in capsys.readouterr().err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_dumpcap_and_exports(path_with: PathWith, tmp_path: Path, sig: int) -> None:
    pidfile = tmp_path / "dumpcap.pid"
    path_with(f"echo $$ > '{pidfile}'\ncat '{SAMPLE}'\nexec sleep 600\n")
    out = tmp_path / "live.json"
    code = "import sys; from mcoaviz.cli import main; sys.exit(main())"
    proc = subprocess.Popen([sys.executable, "-c", code, "live", "-i", "eth0", "--no-tui",
                             "--export", str(out)], stderr=subprocess.PIPE, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    said = b""
    while b"capturing on" not in said and time.monotonic() < deadline:
        if select.select([proc.stderr], [], [], 1.0)[0]:
            said += os.read(proc.stderr.fileno(), 1024)
    assert b"capturing on eth0" in said
    dumpcap_pid = int(pidfile.read_text())
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 0
    assert not Path(f"/proc/{dumpcap_pid}").exists() or _is_zombie_of_other(dumpcap_pid)
    data = json.loads(out.read_text())
    assert len(data["bindings"]) == len(analyse(SAMPLE).bindings)


def _is_zombie_of_other(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_non_positive_duration_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", "-i", "lo", "--no-tui", "--duration", "0"]) == 2
    assert "--duration must be positive" in capsys.readouterr().err


def test_tui_in_tmux_stops_dumpcap_on_sigterm(tmp_path: Path) -> None:
    """The real terminal: the live screen shows the bindings, SIGTERM ends it and its dumpcap."""
    tmux = require_tool("tmux")
    folder = tmp_path / "bin"
    folder.mkdir()
    pidfile = tmp_path / "dumpcap.pid"
    fake_dumpcap(folder, f"echo $$ > '{pidfile}'\ncat '{SAMPLE}'\nexec sleep 600\n")
    session = f"mcoatui{os.getpid()}"
    code = "import sys; from mcoaviz.cli import main; sys.exit(main())"
    command = (f"exec env PATH={folder}:{os.environ['PATH']} PYTHONPATH={ROOT} TERM=xterm-256color "
               f"{sys.executable} -c '{code}' live -i eth0")
    subprocess.run([tmux, "new-session", "-d", "-s", session, "-x", "150", "-y", "40", command], check=True,
                   cwd=ROOT)
    try:
        panes = subprocess.run([tmux, "list-panes", "-t", session, "-F", "#{pane_pid}"],
                               capture_output=True, text=True, check=True)
        pid = int(panes.stdout.split()[0])
        deadline = time.monotonic() + 30
        pane = ""
        while time.monotonic() < deadline:
            pane = subprocess.run([tmux, "capture-pane", "-p", "-t", session], capture_output=True,
                                  text=True).stdout
            if "LIVE" in pane and "2001:db8:a3::100" in pane:
                break
            select.select([], [], [], 0.05)
        assert "LIVE" in pane and "2001:db8:a3::100" in pane, pane
        dumpcap_pid = int(pidfile.read_text())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists() and not _is_zombie_of_other(pid):
            select.select([], [], [], 0.05)
        assert not Path(f"/proc/{pid}").exists() or _is_zombie_of_other(pid), "mcoaviz live still running"
        assert not Path(f"/proc/{dumpcap_pid}").exists() or _is_zombie_of_other(dumpcap_pid)
    finally:
        subprocess.run([tmux, "kill-session", "-t", session], check=False, capture_output=True)
