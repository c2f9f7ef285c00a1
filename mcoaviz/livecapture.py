"""Live capture through dumpcap: it writes pcapng to a pipe that the streaming parser reads.

dumpcap (Wireshark's capture helper) holds the capture privileges, so mcoaviz itself never
needs root. Several ``-i`` give one pcapng with one interface each. ``LiveCapture.start``
waits for dumpcap's first bytes, so a capture that is not permitted, a missing interface or a
missing dumpcap is an error before any screen appears (``LiveCaptureError``, one line, exit 2);
after that, dumpcap dying or an interface going away is reported in ``status`` and the
chunks simply end. ``stop`` terminates dumpcap and waits for it: no process is left behind.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from typing import BinaryIO

START_TIMEOUT = 10.0  # seconds to wait for dumpcap's pcapng header
CHUNK = 256 * 1024  # bytes read at most per chunk: about 1 700 packets, 20-50 ms of analysis
PIPE_SIZE = 1 << 20  # dumpcap's pipe: room to keep capturing while a chunk is analysed
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux
STDERR_WAIT = 2.0  # seconds to wait for dumpcap's last stderr lines once it has exited
PR_SET_PDEATHSIG = 1

PERMISSION_HELP = (
    "capture on {iface} is not permitted: add your user to the 'wireshark' group "
    "(sudo dpkg-reconfigure wireshark-common, then sudo usermod -aG wireshark $USER and log in again), "
    "or give dumpcap the capabilities: sudo setcap cap_net_raw,cap_net_admin=eip {dumpcap}"
)
MISSING_HELP = ("dumpcap not found: install it with 'sudo apt-get install wireshark-common' "
                "(Debian/Ubuntu; also pulled in by the tshark package)")


class LiveCaptureError(Exception):
    """Live capture cannot start; ``str(error)`` is one line for the user."""


def find_dumpcap() -> str:
    path = shutil.which("dumpcap")
    if path is None:
        raise LiveCaptureError(MISSING_HELP)
    return path


def dumpcap_command(dumpcap: str, interfaces: Sequence[str], bpf: str | None = None,
                    duration: float | None = None) -> list[str]:
    """pcapng to stdout; a filter given before the first ``-i`` applies to every interface."""
    cmd = [dumpcap, "-q", "-n", "-w", "-"]
    if bpf:
        cmd += ["-f", bpf]
    for iface in interfaces:
        cmd += ["-i", iface]
    if duration is not None:
        cmd += ["-a", f"duration:{max(1, int(round(duration)))}"]
    return cmd


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """dumpcap gets SIGTERM if mcoaviz dies without stopping it (Linux prctl)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def explain(stderr: str, interfaces: Sequence[str], dumpcap: str) -> str:
    """dumpcap's complaint turned into what the user should do."""
    text = stderr.strip()
    lowered = text.lower()
    if "permission" in lowered or "operation not permitted" in lowered:
        iface = next((i for i in interfaces if f'"{i}"' in text), ", ".join(interfaces))
        return PERMISSION_HELP.format(iface=iface, dumpcap=dumpcap)
    if "no device named" in lowered or "no such device" in lowered:
        return "dumpcap: " + next((line.split("dumpcap: ", 1)[-1] for line in text.splitlines()
                                   if "no device named" in line.lower()), text.splitlines()[-1])
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("Capturing on")]
    return "dumpcap failed: " + (lines[0] if lines else "exited without output")


class LiveCapture:
    """A running dumpcap; iterate ``chunks()`` (in one thread) until it ends or ``stop()``."""

    def __init__(self, interfaces: Sequence[str], bpf: str | None = None, duration: float | None = None,
                 write_to: str | None = None) -> None:
        if not interfaces:
            raise LiveCaptureError("no interface given (use -i IFACE)")
        self.interfaces = list(interfaces)
        self.dumpcap = find_dumpcap()
        self.command = dumpcap_command(self.dumpcap, interfaces, bpf, duration)
        self.write_to = write_to
        self._out: BinaryIO | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: list[str] = []
        self._first = b""
        self._reader: threading.Thread | None = None
        self.status = ""
        self.stopping = False

    def start(self) -> None:
        try:
            self._proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        except OSError as exc:
            raise LiveCaptureError(f"cannot run {self.dumpcap}: {exc.strerror or exc}") from None
        reader = self._reader = threading.Thread(target=self._read_stderr, name="dumpcap-stderr", daemon=True)
        reader.start()
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        try:  # the default 64 KiB pipe fills in a few ms at 50 000 packets/s
            fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:  # not Linux, or above /proc/sys/fs/pipe-max-size: keep the default
            pass
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                self._first = os.read(fd, CHUNK)
                if self._first:
                    break
                self._proc.wait()
                reader.join(1.0)
                raise LiveCaptureError(explain("".join(self._stderr), self.interfaces, self.dumpcap))
        if self.write_to:
            try:
                self._out = open(self.write_to, "wb")  # noqa: SIM115 - closed in stop()
            except OSError as exc:
                self.stop()
                self._out = None
                raise LiveCaptureError(f"cannot write {self.write_to}: {exc.strerror or exc}") from None
        self.status = f"capturing on {', '.join(self.interfaces)}"

    def _read_stderr(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            self._stderr.append(line)
            del self._stderr[:-50]
            if any(word in line.lower() for word in ("error", "no longer", "went down", "dumpcap:")):
                self.status = "dumpcap: " + line.strip().removeprefix("dumpcap: ")

    def chunks(self) -> Iterator[bytes]:
        """dumpcap's output as it arrives (also written to ``write_to``); ends when it exits."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        chunk = self._first
        try:
            while chunk:
                if self._out is not None:
                    self._out.write(chunk)
                yield chunk
                try:
                    chunk = os.read(fd, CHUNK)
                except OSError:
                    break
        finally:
            if self._out is not None:
                self._out.close()
                self._out = None
        code = proc.wait()
        if self._reader is not None:
            self._reader.join(STDERR_WAIT)  # its last words may still be in the pipe
        if not self.stopping:
            said = [line.strip() for line in self._stderr if line.strip()
                    and not line.startswith(("Capturing on", "File:", "Packets"))]
            why = said[-1] if said else f"exit status {code}"
            self.status = f"dumpcap stopped: {why}"

    def stop(self) -> None:
        """Terminate dumpcap (SIGTERM, then SIGKILL) and reap it; safe to call twice."""
        self.stopping = True
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(3.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None
