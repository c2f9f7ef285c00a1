"""Home-agent mirror benchmark: the whole `mcoaviz` commands a user runs, against tshark.

Not `simulate scale`'s shape: a home agent's VLAN-tagged mirror port with thousands of mobile
nodes x 3 CoAs, each on its own refresh timer (one bulk BU / BA per refresh), handovers (one
BID moves to a new CoA), de-registrations of one BID or of the whole node (re-registered at the
next refresh), tunnelled data only to and from CoAs bound at that moment, plain IPv6 and IPv4
noise. Optionally (``--stale-share``) some data keeps going to CoAs after their binding ended,
which the checker reports (repeated findings).

    python benchmarks/homeagent.py                       # 1 M packets, 3 000 nodes x 3 CoAs
    python benchmarks/homeagent.py --compare 300         # + the same packets/signalling, 300 nodes
    python benchmarks/homeagent.py --packets 10000000 --only export --no-tshark
    python benchmarks/homeagent.py --only decode-json,decode,decode-V --no-tshark   # the three decode views

Each command runs in a fresh process; the script prints wall time, packets/s, ratio to
``tshark -T fields``, and the child's peak RSS (``wait4``), plus the load average (the machine
may be shared: say so next to the figures). Captures go to benchmarks/data/ (git-ignored) and
are reused when present.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from dissector.encode import ipv6_packet, mac
from dissector.encode.mobility import binding_ack, binding_update, mobility_header
from dissector.encode.options import binding_identifier
from mcoaviz.simulate.pcapng import InterfaceSpec, interface_description, section_header

DATA = Path(__file__).resolve().parent / "data"
START_US = 1_700_000_000 * 1_000_000
HOME_AGENT = "2001:db8:0:1::1"
HA_MAC, ROUTER_MAC = mac("02:00:00:00:0a:01"), mac("02:00:00:00:0f:01")
VLANS = (100, 200)  # uplink (tunnels, signalling) and a second mirrored VLAN (noise)
COAS = 3
CORRESPONDENTS = 64
CN_PER_NODE = 4  # each node talks to a few of them: about 14 packets per flow per 1 M packets
MAX_FLIGHT = 16  # TCP sends in flights: 1-16 consecutive packets of one flow
SIGNAL_SHARE = 0.02  # of all packets (BUs + BAs)
NOISE_V4, NOISE_V6 = 0.05, 0.03  # IPv4 noise and plain IPv6, share of the data packets
P_HANDOVER, P_DEREG_ONE, P_LEAVE = 0.10, 0.04, 0.01  # per refresh
MTU_PAYLOAD = 1400
_EPB = struct.Struct("<IIIIIII")
_PAYLOAD = bytes((i * 167 + 0xA5) & 0xFF for i in range(2048))


def _vlan(vid: int, ethertype: int) -> bytes:
    return struct.pack("!HH", 0x8100, vid) + struct.pack("!H", ethertype)


def _ip6(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


@dataclass
class _Node:
    index: int
    hoa: str
    coas: list[str]  # current CoA per BID (BID = position + 1)
    bound: list[bool] = field(default_factory=lambda: [False] * COAS)
    seq: int = 1
    moves: int = 0
    refresh_next: bool = False  # after a de-registration the next BU refreshes everything


class HomeAgentCapture:
    """Writes the capture in time order: a heap-free merge of per-node timers and data."""

    def __init__(self, nodes: int, packets: int, duration: float, seed: int, stale_share: float) -> None:
        self.rng = random.Random(seed)
        self.packets, self.duration, self.stale_share = packets, duration, stale_share
        signalling = int(packets * SIGNAL_SHARE)
        # one refresh = BU + BA; the same signalling whatever the node count
        self.interval = max(4.0, nodes * duration * 2 / max(signalling, 1))
        self.lifetime = int(self.interval * 2.5 + 3) // 4 * 4  # one refresh may be skipped
        self.nodes = [
            _Node(i, f"2001:db8:0:1::{0x1000 + i:x}", [self._coa(i, j, 0) for j in range(COAS)])
            for i in range(nodes)
        ]
        self.cns = [f"2001:db8:c0::{k + 1:x}" for k in range(CORRESPONDENTS)]
        self.bound: list[tuple[int, int]] = []  # (node, bid index) bound now: data goes only there
        self.where: dict[tuple[int, int], int] = {}
        self.stale: list[tuple[int, int, str]] = []  # recently unbound (node, bid, coa): --stale-share
        self.templates: dict[tuple[int, str, int, bool], tuple[bytes, bytes, bytes]] = {}
        self.ha = _ip6(HOME_AGENT)
        self.flight: list | None = None  # [packets left, node, BID index, CoA, CN, stale, to MN]

    @staticmethod
    def _coa(i: int, j: int, move: int) -> str:
        return f"2001:db8:{0x1000 + j * 256 + move % 256:x}:{i & 0xFFFF:x}::{(i >> 16) + 2:x}"

    # ------------------------------------------------------------------ binding state
    def _bind(self, i: int, j: int) -> None:
        node = self.nodes[i]
        if not node.bound[j]:
            node.bound[j] = True
            self.where[(i, j)] = len(self.bound)
            self.bound.append((i, j))

    def _unbind(self, i: int, j: int) -> None:
        node = self.nodes[i]
        if node.bound[j]:
            node.bound[j] = False
            at = self.where.pop((i, j))
            last = self.bound.pop()
            if last != (i, j):
                self.bound[at] = last
                self.where[last] = at
            self.stale.append((i, j, node.coas[j]))
            if len(self.stale) > 64:
                self.stale.pop(0)

    # ------------------------------------------------------------------ signalling
    def _exchange(self, node: _Node, bids: list[int], lifetime: int) -> tuple[bytes, bytes]:
        node.seq = (node.seq + 1) & 0xFFFF
        options = [binding_identifier(j + 1, node.coas[j] if lifetime else None) for j in bids]
        # the first registration of a node with no binding left overwrites (RFC 5648 §5.9)
        flags = ("A", "H", "O") if lifetime and not any(node.bound) else ("A", "H")
        bu = mobility_header(binding_update(node.seq, lifetime, *flags), options)
        acks = [binding_identifier(j + 1, status=0) for j in bids]
        ba = mobility_header(binding_ack(0, node.seq, lifetime), acks)
        src = node.coas[bids[0]]
        eth_in = HA_MAC + ROUTER_MAC + _vlan(VLANS[0], 0x86DD)
        eth_out = ROUTER_MAC + HA_MAC + _vlan(VLANS[0], 0x86DD)
        return (eth_in + ipv6_packet(src, HOME_AGENT, 135, bu, hao=node.hoa),
                eth_out + ipv6_packet(HOME_AGENT, src, 135, ba, rh2=node.hoa))

    def _refresh(self, node: _Node) -> tuple[list[int], int, list[int], list[int]]:
        """(BIDs in the BU, lifetime, BIDs bound at the BA, BIDs unbound at the BU)."""
        r = self.rng.random()
        held = [j for j in range(COAS) if node.bound[j]]
        every = list(range(COAS))
        if node.refresh_next or not held:
            node.refresh_next = False
            return every, self.lifetime, every, []
        if r < P_LEAVE + P_DEREG_ONE:
            node.refresh_next = True
            if r < P_LEAVE:
                return held, 0, [], held
            j = self.rng.choice(held)
            return [j], 0, [], [j]
        if r < P_LEAVE + P_DEREG_ONE + P_HANDOVER:  # one BID moves; the bulk BU refreshes the rest
            j = self.rng.choice(held)
            node.moves += 1
            node.coas[j] = self._coa(node.index, j, node.moves)
            return every, self.lifetime, every, [j]
        every = list(range(COAS))
        return every, self.lifetime, every, []

    # ------------------------------------------------------------------ data
    def _data(self) -> bytes:
        rng = self.rng
        r = rng.random()
        if r < NOISE_V4:
            return self._ipv4_noise()
        if r < NOISE_V4 + NOISE_V6 or not self.bound:
            return self._plain_v6()
        flight = self.flight
        if flight is not None and flight[0] > 0 and (flight[5] or self._still_bound(flight)):
            flight[0] -= 1
            i, j, coa, cn, to_mn = flight[1], flight[2], flight[3], flight[4], flight[6]
        else:
            stale = bool(self.stale) and rng.random() < self.stale_share
            if stale:
                i, j, coa = self.stale[int(rng.random() * len(self.stale))]
            else:
                i, j = self.bound[int(rng.random() * len(self.bound))]
                coa = self.nodes[i].coas[j]
            to_mn = rng.random() < 0.6
            cn = (i * 7 + int(rng.random() * CN_PER_NODE)) % CORRESPONDENTS
            self.flight = [int(rng.random() * MAX_FLIGHT), i, j, coa, cn, stale, to_mn]
        key = (i, coa, cn, to_mn)
        template = self.templates.get(key)
        if template is None:
            node = self.nodes[i]
            outer = self.ha + _ip6(coa) if to_mn else _ip6(coa) + self.ha
            inner = _ip6(self.cns[cn]) + _ip6(node.hoa) if to_mn else _ip6(node.hoa) + _ip6(self.cns[cn])
            eth = (ROUTER_MAC + HA_MAC if to_mn else HA_MAC + ROUTER_MAC) + _vlan(VLANS[0], 0x86DD)
            ports = struct.pack("!HH", 40001, 32768 + cn) if to_mn else struct.pack("!HH", 32768 + cn, 40001)
            template = (eth, bytes((41, 64)) + outer, bytes((6, 63)) + inner + ports)
            if len(self.templates) > 200_000:
                self.templates.clear()
            self.templates[key] = template
        eth, outer, inner = template
        r = rng.random()
        payload = 0 if r < 0.3 else MTU_PAYLOAD if r < 0.85 else 1 + int(rng.random() * MTU_PAYLOAD)
        tcp_rest = struct.pack("!IIBBHHH", int(rng.random() * 4e9), 1, 0x50, 0x10, 65535, 0, 0)
        return (eth + struct.pack("!IH", 0x60000000, 60 + payload) + outer
                + struct.pack("!IH", 0x60000000, 20 + payload) + inner + tcp_rest + _PAYLOAD[:payload])

    def _still_bound(self, flight: list) -> bool:
        """Data of a flight goes on only while its CoA is bound (de-registrations, handovers)."""
        node = self.nodes[flight[1]]
        return node.bound[flight[2]] and node.coas[flight[2]] == flight[3]

    def _plain_v6(self) -> bytes:
        rng = self.rng
        cn = self.cns[int(rng.random() * CORRESPONDENTS)]
        payload = 1 + int(rng.random() * 600)
        udp = struct.pack("!HHHH", 5353, 5353, 8 + payload, 0) + _PAYLOAD[:payload]
        header = struct.pack("!IHBB", 0x60000000, len(udp), 17, 64) + self.ha + _ip6(cn)
        return HA_MAC + ROUTER_MAC + _vlan(VLANS[1], 0x86DD) + header + udp

    def _ipv4_noise(self) -> bytes:
        rng = self.rng
        payload = 1 + int(rng.random() * 1000)
        src = struct.pack("!BBBB", 10, 1, int(rng.random() * 256), int(rng.random() * 254) + 1)
        dst = struct.pack("!BBBB", 192, 0, 2, int(rng.random() * 254) + 1)
        udp = struct.pack("!HHHH", 40000 + int(rng.random() * 1000), 53, 8 + payload, 0) + _PAYLOAD[:payload]
        header = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0) + src + dst
        return ROUTER_MAC + HA_MAC + _vlan(VLANS[1], 0x0800) + header + udp

    # ------------------------------------------------------------------ writing
    def write(self, path: Path) -> tuple[int, int]:
        """(packets, signalling messages) written."""
        import heapq

        rng = self.rng
        timers = [(rng.uniform(0, min(5.0, self.interval)) * 1e6, i) for i in range(len(self.nodes))]
        heapq.heapify(timers)
        pending_ba: list[tuple[float, int, bytes, list[int]]] = []  # (time, node, frame, bind at BA)
        step = self.duration * 1e6 / self.packets
        written = signalling = 0
        t = 0.0
        batch: list[bytes] = []
        with open(path, "wb") as out:
            out.write(section_header("mcoaviz benchmarks/homeagent.py"))
            out.write(interface_description(InterfaceSpec("ha0-mirror", 1, "home agent mirror port", False)))

            def emit(at: float, frame: bytes) -> None:
                stamp = START_US + int(at)
                n = len(frame)
                batch.append(_EPB.pack(6, 32 + n + (-n % 4), 0, stamp >> 32, stamp & 0xFFFFFFFF, n, n))
                batch.append(frame + b"\0" * (-n % 4) + struct.pack("<I", 32 + n + (-n % 4)))

            while written < self.packets:
                while True:  # signalling due before this data packet, in time order
                    ba_at = pending_ba[0][0] if pending_ba else t + 1
                    bu_at = timers[0][0] if timers and written < self.packets - 1 else t + 1
                    if min(ba_at, bu_at) > t:
                        break
                    if ba_at <= bu_at:
                        at, i, frame, bind = heapq.heappop(pending_ba)
                        emit(at, frame)
                        for j in bind:
                            self._bind(i, j)
                    else:
                        at, i = heapq.heappop(timers)
                        node = self.nodes[i]
                        bids, lifetime, bind, unbind = self._refresh(node)
                        for j in unbind:
                            self._unbind(i, j)
                        bu, ba = self._exchange(node, bids, lifetime)
                        emit(at, bu)
                        heapq.heappush(pending_ba, (at + rng.uniform(200, 900), i, ba, bind))
                        heapq.heappush(timers, (at + self.interval * rng.uniform(0.85, 1.0) * 1e6, i))
                    written += 1
                    signalling += 1
                if written < self.packets:
                    emit(t, self._data())
                    written += 1
                t += step
                if len(batch) > 16384:
                    out.write(b"".join(batch))
                    batch.clear()
            out.write(b"".join(batch))
        return written, signalling


def capture(nodes: int, packets: int, duration: float, seed: int, stale_share: float) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    stale = f"-stale{stale_share:g}" if stale_share else ""
    path = DATA / f"homeagent-{packets}-{nodes}n-{int(duration)}s-s{seed}{stale}.pcapng"
    if not path.exists():
        began = time.perf_counter()
        partial = path.with_suffix(".partial")
        writer = HomeAgentCapture(nodes, packets, duration, seed, stale_share)
        written, signalling = writer.write(partial)
        partial.rename(path)
        print(f"wrote {path.name}: {written} packets ({signalling} signalling, refresh every "
              f"{writer.interval:.0f} s, lifetime {writer.lifetime} s) "
              f"in {time.perf_counter() - began:.0f} s",
              flush=True)
    return path


def timed(argv: list[str], stdout: Path | None = None) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS MiB, exit code) of one child process. On a shared
    machine the CPU time (user + system) is the steadier figure; wall time is what a user waits."""
    sink = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115 - closed below
    began = time.perf_counter()
    # stderr to a file, not a pipe: nobody reads a pipe during wait4, and a child that writes
    # more than the pipe holds would block for ever
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(argv, stdout=sink, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - began
        errors.seek(0)
        err = errors.read().decode(errors="replace").strip()
    child.returncode = os.waitstatus_to_exitcode(status)
    if stdout:
        sink.close()  # type: ignore[union-attr]
    if child.returncode not in (0, 1):
        print(f"  ! {' '.join(argv[:4])}... exit {child.returncode}: {err[-300:]}", file=sys.stderr)
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode


def mcoaviz(*args: str) -> list[str]:
    return [sys.executable, "-m", "mcoaviz", *args]


COMMANDS = {
    "export": lambda cap, out: mcoaviz("export", str(cap), "--format", "json", "-o",
                                       str(out / "export.json")),
    "export-csv": lambda cap, out: mcoaviz("export", str(cap), "--format", "csv", "-o", str(out / "csv.d")),
    "analyse": lambda cap, out: mcoaviz("analyse", str(cap)),
    "decode-json": lambda cap, out: mcoaviz("decode", str(cap), "--json"),
    "decode": lambda cap, out: mcoaviz("decode", str(cap)),
    "decode-V": lambda cap, out: mcoaviz("decode", str(cap), "-V"),
}
OUTPUTS = {"decode-json": "decode.jsonl", "decode": "decode.txt", "decode-V": "decode.V.txt"}


def run_all(path: Path, only: list[str], tshark: bool) -> dict[str, float]:
    out = DATA / "out"
    out.mkdir(exist_ok=True)
    packets = int(path.name.split("-")[1])
    print(f"\n{path.name}  ({path.stat().st_size / 1e6:.0f} MB)  load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    times: dict[str, float] = {}
    if tshark and shutil.which("tshark"):
        seconds, cpu, rss, code = timed(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.number",
                                    "-e", "mip6.mhtype", "-e", "mip6.bu.seqnr"])
        if code != 0:
            raise SystemExit("tshark failed: no figure to compare with")
        times["tshark"], times["tshark-cpu"] = seconds, cpu
        print(f"  {'tshark -T fields':<24} {seconds:7.1f} s wall {cpu:7.1f} s CPU "
              f"{packets / cpu / 1e3:8.1f} k pkt/s CPU  {rss:6.0f} MiB")
    for name in only:
        target = out / OUTPUTS[name] if name in OUTPUTS else None
        seconds, cpu, rss, _ = timed(COMMANDS[name](path, out), target)
        times[name], times[name + "-cpu"], times[name + "-rss"] = seconds, cpu, rss
        ratio = (f"{times['tshark'] / seconds:6.2f}x tshark wall, {times['tshark-cpu'] / cpu:6.2f}x CPU"
                 if "tshark" in times else "")
        print(f"  {'mcoaviz ' + name:<24} {seconds:7.1f} s wall {cpu:7.1f} s CPU "
              f"{packets / cpu / 1e3:8.1f} k pkt/s CPU  {rss:6.0f} MiB  {ratio}", flush=True)
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return times


def memory_mode(args: argparse.Namespace, only: list[str]) -> int:
    """Peak RSS of each command at N and 10 N packets of the same shape (10x the duration keeps
    the packet rate, the nodes and their refresh interval): what grows with the capture's length."""
    runs = []
    for scale in (1, 10):
        path = capture(args.mobile_nodes, args.packets * scale, args.duration * scale, args.seed,
                       args.stale_share)
        runs.append((path, run_all(path, only, False)))
        if scale == 10 and args.delete_large:
            path.unlink()
    sizes = "".join(f"{p.name.split('-')[1]:>12} pkts" for p, _ in runs)
    print(f"\npeak RSS (MiB)       {sizes}   ratio")
    for name in only:
        small, large = (times[name + "-rss"] for _, times in runs)
        print(f"  mcoaviz {name:<12}" + f"{small:17.0f}{large:17.0f}   {large / small:5.2f}x")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--mobile-nodes", type=int, default=3000)
    parser.add_argument("--duration", type=float, default=600.0, help="capture duration, s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stale-share", type=float, default=0.0,
                        help="share of tunnelled data sent to CoAs whose binding just ended")
    parser.add_argument("--compare", type=int, metavar="NODES",
                        help="also run export on the same packets and signalling with NODES nodes")
    parser.add_argument("--only", default="export,analyse,decode-json",
                        help=f"comma-separated subset of {','.join(COMMANDS)}")
    parser.add_argument("--no-tshark", action="store_true")
    parser.add_argument("--write-only", action="store_true", help="write the capture(s) and stop")
    parser.add_argument("--memory", action="store_true",
                        help="peak RSS of export and analyse at --packets and at 10x --packets over 10x "
                             "--duration (same rate and refresh interval): flat means memory does not "
                             "grow with the capture's length")
    parser.add_argument("--delete-large", action="store_true",
                        help="with --memory: delete the 10x capture afterwards (~9.7 GB at 10 M packets)")
    args = parser.parse_args()
    only = [name for name in args.only.split(",") if name]
    unknown = [name for name in only if name not in COMMANDS]
    if unknown:
        parser.error(f"unknown command(s): {', '.join(unknown)}")
    if args.memory:
        return memory_mode(args, only if "--only" in sys.argv else ["export", "analyse"])
    main_capture = capture(args.mobile_nodes, args.packets, args.duration, args.seed, args.stale_share)
    other = (capture(args.compare, args.packets, args.duration, args.seed, args.stale_share)
             if args.compare else None)
    if args.write_only:
        return 0
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    times = run_all(main_capture, only, not args.no_tshark)
    if other is not None:
        compared = run_all(other, ["export"], False)
        if "export" in times:
            print(f"\n  export {args.mobile_nodes} nodes / {args.compare} nodes "
                  "(same packets and signalling): "
                  f"{times['export'] / compared['export']:.2f}x wall, "
                  f"{times['export-cpu'] / compared['export-cpu']:.2f}x CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
