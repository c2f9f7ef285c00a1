"""Scale mode: a large, realistic home-agent mirror-port capture, written fast.

``write_scale_capture`` writes ``rate * duration`` packets seen on a home agent's uplink:
N mobile nodes, each with M care-of addresses registered with one bulk Binding Update
(RFC 5648 Binding Identifier options, one per CoA) and refreshed before the lifetime runs
out, each BU answered by a BA carrying the per-BID status; around that signalling, data
traffic between correspondents and the mobile nodes' home addresses, tunnelled IPv6-in-IPv6
between the HA and a CoA (both directions, about 94 %), route-optimised with a Home Address
option or a type 2 routing header (about 3 %) and plain IPv6 (about 3 %).

Speed comes from templates: per flow, the Ethernet, IPv6 and TCP header pieces are built
once; each packet is one ``struct.pack`` that patches lengths and the TCP sequence number in,
plus a payload slice, wrapped in a pre-computed Enhanced Packet Block header and trailer.
Signalling packets use the real builders (``dissector.encode``), so their Mobility Header
checksums are right. Data packets leave the TCP checksum 0 (nothing in mcoaviz reads it).
The same arguments give the same bytes.
"""

from __future__ import annotations

import hashlib
import heapq
import ipaddress
import os
import random
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from dissector.encode import ethernet_for, ipv6_packet, mac
from dissector.encode.mobility import binding_ack, binding_update, mobility_header
from dissector.encode.options import binding_identifier
from mcoaviz.outfile import atomic_file
from mcoaviz.simulate.pcapng import InterfaceSpec, interface_description, section_header

START_SECONDS = 1_700_000_000  # a fixed epoch: no clock goes into the file
HA_MAC, ROUTER_MAC = mac("02:00:00:00:0a:01"), mac("02:00:00:00:0f:01")
HOME_AGENT = "2001:db8:0:1::1"
CORRESPONDENTS = 16
CN_PER_NODE = 2
MTU = 1500
SERVER_PORT = 40001  # no application dissector claims it: tshark's cost stays that of the headers
ACK_SHARE, FULL_SHARE = 0.30, 0.55  # the rest have uniformly random sizes
SHARE_TUNNEL, SHARE_ROUTE_OPTIMISED = 0.94, 0.03  # the rest is plain IPv6
BATCH = 8192
OVERHEAD = (80 + 20, 64 + 20, 40 + 20)  # IP headers + TCP per kind: tunnel, route-optimised, plain

MAX_SNAPLEN = 262_144  # what dumpcap accepts; the IDB field is 32 bits, a negative one is nonsense

_EPB = struct.Struct("<IIIIIII")
# Ethernet | IPv6 (vtc, plen, rest) | IPv6 (vtc, plen, rest) | TCP ports, seq, rest
_TUNNEL = struct.Struct("!14s4sH34s4sH34s4sI12s")
# Ethernet | IPv6 (vtc, plen, rest incl. extension header) | TCP ports, seq, rest
_SINGLE = struct.Struct("!14s4sH58s4sI12s")
_PLAIN = struct.Struct("!14s4sH34s4sI12s")
_PAYLOAD = bytes((i * 167 + 0xA5) & 0xFF for i in range(2048))  # no protocol heuristic bites on it
# EPB trailer (padding + repeated block length) for each captured length, built once
_TRAILERS = [b"\0" * (-n % 4) + struct.pack("<I", 32 + n + (-n % 4)) for n in range(MTU + 64)]


@dataclass(frozen=True, slots=True)
class _Node:
    hoa: bytes
    coas: tuple[bytes, ...]
    cns: tuple[bytes, ...]


def _addr(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


def _text(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


def _nodes(mobile_nodes: int, coas: int, rng: random.Random) -> list[_Node]:
    home = _addr(HOME_AGENT)[:8]
    cns = [_addr(f"2001:db8:c0::{k + 1:x}") for k in range(CORRESPONDENTS)]
    nodes = []
    for i in range(mobile_nodes):
        iid = struct.pack("!Q", 0x1000 + i)
        node_coas = tuple(
            struct.pack("!HHHH", 0x2001, 0xDB8, 0x1000 + j, i & 0xFFFF) + struct.pack("!Q", (i >> 16) + 2)
            for j in range(coas)
        )
        nodes.append(_Node(home + iid, node_coas, tuple(rng.sample(cns, CN_PER_NODE))))
    return nodes


def _eth(src_mac: bytes, dst_mac: bytes) -> bytes:
    return dst_mac + src_mac + b"\x86\xdd"


def _vtc(flow: int) -> bytes:
    return struct.pack("!I", 0x60000000 | (flow & 0xFFFFF))


def _signalling(node: _Node, seq: int, lifetime: int) -> tuple[bytes, bytes]:
    """(BU frame arriving from the primary CoA, BA frame the HA sends back)."""
    hoa, ha = _text(node.hoa), HOME_AGENT
    coas = [_text(c) for c in node.coas]
    bids = [binding_identifier(j + 1, coa) for j, coa in enumerate(coas)]
    bu = mobility_header(binding_update(seq, lifetime, "A", "H"), bids)
    acks = [binding_identifier(j + 1, status=0) for j in range(len(coas))]
    ba = mobility_header(binding_ack(0, seq, lifetime), acks)
    bu_frame = ethernet_for(HA_MAC, ROUTER_MAC, ipv6_packet(coas[0], ha, 135, bu, hao=hoa))
    ba_frame = ethernet_for(ROUTER_MAC, HA_MAC, ipv6_packet(ha, coas[0], 135, ba, rh2=hoa))
    return bu_frame, ba_frame


class _Schedule:
    """Every node's BU/BA times, merged in time order as they are written.

    One heap entry per node, never one per message: a long run with many nodes must not build
    its whole signalling in memory first (it reached gigabytes before a byte was written).
    The jitter comes from a hash of (seed, node, draw), so it needs no per-node generator state.
    """

    def __init__(self, node_count: int, duration: float, seed: int) -> None:
        self.node_count = node_count
        self.duration = duration
        self.interval = min(60.0, max(duration / 3, 2.0))
        self.lifetime = int(self.interval * 2 + 3) // 4 * 4
        self.window = min(1.0, duration * 0.05)
        self.data_start = int(self.window * 1_000_000)  # data starts once the first BUs are out
        self.seed = seed

    def _draw(self, node: int, k: int) -> float:
        digest = hashlib.blake2b(struct.pack("<qqq", self.seed, node, k), digest_size=8).digest()
        return int.from_bytes(digest, "little") / (1 << 64)

    def events(self) -> Iterator[tuple[int, int, int, int]]:
        """(microsecond time, node index, sequence number, 0 = BU | 1 = BA), in time order."""
        heap = []
        for i in range(self.node_count):
            t = self._draw(i, 0) * self.window
            if t < self.duration:
                heap.append((int(t * 1_000_000), i, 0, 1 + int(self._draw(i, 1) * 59999), t, 2))
        heapq.heapify(heap)
        while heap:
            at, i, kind, seq, t, k = heap[0]
            yield at, i, seq, kind
            if kind == 0:  # the HA answers after its processing time
                heapq.heapreplace(heap, (at + 200 + int(self._draw(i, k) * 700), i, 1, seq, t, k + 1))
                continue
            t += self.interval * (0.9 + 0.1 * self._draw(i, k))
            if t < self.duration:
                heapq.heapreplace(heap, (int(t * 1_000_000), i, 0, (seq + 1) & 0xFFFF, t, k + 1))
            else:
                heapq.heappop(heap)

    def count(self) -> int:
        return sum(1 for _ in self.events())


class _Traffic:
    """Per-flow header templates and TCP sequence numbers."""

    def __init__(self, nodes: list[_Node], rng: random.Random) -> None:
        self.nodes = nodes
        self.rng = rng
        # flow -> header pieces for its kind, plus the next TCP sequence number (last item)
        self.templates: dict[tuple[int, int, int, int, int], list] = {}
        self.ha = _addr(HOME_AGENT)
        self.coas = len(nodes[0].coas)
        self.flows = len(nodes) * self.coas * CN_PER_NODE * 2

    def burst(self) -> list[bytes]:
        """A flight of 1-16 frames of one flow (TCP sends in flights; it also keeps this fast)."""
        random = self.rng.random
        r = random()
        kind = 0 if r < SHARE_TUNNEL else 1 if r < SHARE_TUNNEL + SHARE_ROUTE_OPTIMISED else 2
        # one draw picks the flow: node, care-of address, correspondent and direction
        flow, to_mn = divmod(int(random() * self.flows), 2)
        flow, c = divmod(flow, CN_PER_NODE)
        i, j = divmod(flow, self.coas)
        key = (kind, i, j, c, to_mn)
        template = self.templates.get(key)
        if template is None:
            template = self.templates[key] = self._template(kind, self.nodes[i], j, c, bool(to_mn))
        seq = template[-1]
        room = MTU - OVERHEAD[kind]
        frames = []
        for _ in range(1 + int(random() * 16)):
            r = random()
            payload = (
                0 if r < ACK_SHARE else room if r < ACK_SHARE + FULL_SHARE else 1 + int(random() * (room - 1))
            )
            if kind == 0:
                eth, ovtc, orest, ivtc, irest, ports, rest, _ = template
                head = _TUNNEL.pack(
                    eth, ovtc, 60 + payload, orest, ivtc, 20 + payload, irest, ports, seq, rest
                )
            elif kind == 1:
                eth, vtc, headers, ports, rest, _ = template
                head = _SINGLE.pack(eth, vtc, 44 + payload, headers, ports, seq, rest)
            else:
                eth, vtc, headers, ports, rest, _ = template
                head = _PLAIN.pack(eth, vtc, 20 + payload, headers, ports, seq, rest)
            frames.append(head + _PAYLOAD[:payload] if payload else head)
            seq = (seq + payload) & 0xFFFFFFFF
        template[-1] = seq
        return frames

    def _template(self, kind: int, node: _Node, j: int, c: int, to_mn: bool) -> list:
        rng = self.rng
        cn, hoa, coa = node.cns[c], node.hoa, node.coas[j]
        arriving = _eth(ROUTER_MAC, HA_MAC)  # frames the HA receives from its uplink router
        leaving = _eth(HA_MAC, ROUTER_MAC)
        client = rng.randrange(32768, 61000)
        ports = struct.pack("!HH", SERVER_PORT, client) if to_mn else struct.pack("!HH", client, SERVER_PORT)
        seq = rng.randrange(1 << 32)
        rest = struct.pack("!IBBHHH", rng.randrange(1 << 32), 0x50, 0x10, 65535, 0, 0)  # ack, offset, ACK
        if kind == 0:
            # HA -> CoA carries CN -> HoA; CoA -> HA carries HoA -> CN
            outer = self.ha + coa if to_mn else coa + self.ha
            inner = cn + hoa if to_mn else hoa + cn
            eth = leaving if to_mn else arriving
            return [eth, _vtc(rng.randrange(1 << 20)), bytes((41, 64)) + outer,
                    _vtc(rng.randrange(1 << 20)), bytes((6, 63)) + inner, ports, rest, seq]  # fmt: skip
        if kind == 1:
            if to_mn:  # CN -> CoA with a type 2 routing header for the HoA
                headers = bytes((43, 60)) + cn + coa + bytes((6, 2, 2, 1, 0, 0, 0, 0)) + hoa
            else:  # CoA -> CN with the Home Address option
                headers = bytes((60, 64)) + coa + cn + bytes((6, 2, 1, 2, 0, 0, 0xC9, 16)) + hoa
            return [arriving, _vtc(rng.randrange(1 << 20)), headers, ports, rest, seq]
        pair = cn + self.ha if to_mn else self.ha + cn
        return [
            arriving if to_mn else leaving,
            _vtc(rng.randrange(1 << 20)),
            bytes((6, 64)) + pair,
            ports,
            rest,
            seq,
        ]


def write_scale_capture(
    path: str | os.PathLike[str],
    mobile_nodes: int,
    coas: int,
    duration: float,
    rate: float,
    seed: int = 1,
    *,
    snaplen: int = 0,
) -> int:
    """Write the capture; returns the number of packets written (data + signalling).

    ``snaplen`` > 0 keeps only that many bytes of each frame (like ``dumpcap -s``), as
    mirror-port captures at this scale usually do; the wire length stays in every record.
    Keep it above the largest signalling frame (about 110 + 20 * coas bytes) to keep the
    Binding Updates whole.
    """
    if not 0 <= snaplen <= MAX_SNAPLEN:
        raise ValueError(f"snaplen {snaplen} is outside 0..{MAX_SNAPLEN}")
    rng = random.Random(seed)
    nodes = _nodes(mobile_nodes, coas, rng)
    schedule = _Schedule(len(nodes), duration, seed)
    signalling_count, data_start = schedule.count(), schedule.data_start
    total_data = max(0, int(rate * duration) - signalling_count)
    step = (duration * 1_000_000 - data_start) / max(total_data, 1)
    traffic = _Traffic(nodes, rng)
    base = START_SECONDS * 1_000_000
    pack, trailers = _EPB.pack, _TRAILERS
    written = 0
    with atomic_file(path, "wb") as out:
        out.write(section_header("mcoaviz simulate scale"))
        spec = InterfaceSpec("ha0-uplink", 1, "home agent uplink mirror", False, snaplen or 65535)
        out.write(interface_description(spec))
        snap = snaplen if snaplen > 0 else 1 << 30
        batch: list[bytes] = []
        append = batch.append
        burst = traffic.burst
        lifetime = schedule.lifetime
        pending = schedule.events()
        building: dict[int, tuple[bytes, bytes]] = {}  # node -> its BU/BA awaiting the BA
        upcoming = next(pending, None)
        n = 0
        while True:
            frames = burst() if n < total_data else [None]
            for frame in frames:
                at = data_start + int(n * step) if frame is not None else 1 << 62
                while upcoming is not None and upcoming[0] <= at:
                    sig_at, i, seq, kind = upcoming
                    if kind == 0:  # the BA follows its BU: build the pair once, keep it until then
                        pair = building[i] = _signalling(nodes[i], seq, lifetime)
                    else:
                        pair = building.pop(i) if i in building else _signalling(nodes[i], seq, lifetime)
                    signal = pair[kind]
                    stamp = base + sig_at
                    size = len(signal)
                    cap = size if size <= snap else snap
                    append(pack(6, 32 + cap + (-cap % 4), 0, stamp >> 32, stamp & 0xFFFFFFFF, cap, size))
                    append(signal if cap == size else signal[:cap])
                    append(trailers[cap])
                    upcoming = next(pending, None)
                    if len(batch) >= BATCH:  # signalling alone can be long: it streams too
                        out.write(b"".join(batch))
                        batch.clear()
                if frame is None:
                    break
                stamp = base + at
                size = len(frame)
                cap = size if size <= snap else snap
                append(pack(6, 32 + cap + (-cap % 4), 0, stamp >> 32, stamp & 0xFFFFFFFF, cap, size))
                append(frame if cap == size else frame[:cap])
                append(trailers[cap])
                n += 1
                if n == total_data:
                    break
            if len(batch) >= BATCH or (n >= total_data and upcoming is None):
                out.write(b"".join(batch))
                batch.clear()
            if n >= total_data and upcoming is None:
                break
        written = total_data + signalling_count
    return written


__all__ = ["write_scale_capture"]
