"""FastPath: what it counts (and how), what it refuses, and that refusals are the right ones."""

from __future__ import annotations

import ipaddress
import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dissector.decode import DecodeOptions, decode_frame
from dissector.fastpath import FastPath
from dissector.records import Frame, TrafficCount

HA, CN, HOA, COA, COA2 = "2001:db8::1", "2001:db8:c::1", "2001:db8:1::100", "2001:db8:f1::2", "2001:db8:f2::2"
V4A, V4B, V4HA = "192.0.2.10", "198.51.100.7", "203.0.113.1"


def a6(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


def a4(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def ip6(src: str, dst: str, nh: int, payload: bytes, *, plen: int | None = None, flow: int = 0) -> bytes:
    length = len(payload) if plen is None else plen
    return struct.pack("!IHBB", 0x60000000 | flow, length, nh, 64) + a6(src) + a6(dst) + payload


def ip4(src: str, dst: str, proto: int, payload: bytes, *, ident: int = 1, frag: int = 0x4000) -> bytes:
    return (
        struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0)
        + a4(src)
        + a4(dst)
        + payload
    )


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0x1234) + payload


def tcp(payload: bytes = b"") -> bytes:
    return struct.pack("!HHIIBBHHH", 1000, 80, 1, 2, 0x50, 0x10, 1000, 0, 0) + payload


def hao(nh: int, home: str) -> bytes:
    return bytes([nh, 2, 1, 2, 0, 0, 0xC9, 16]) + a6(home)


def rh2(nh: int, home: str) -> bytes:
    return bytes([nh, 2, 2, 1, 0, 0, 0, 0]) + a6(home)


def mh(kind: int = 5) -> bytes:
    return bytes([59, 1, kind, 0, 0, 0, 0, 0]) + bytes(8)


def eth(payload: bytes, ethertype: int = 0x86DD, vlans: tuple[int, ...] = ()) -> bytes:
    tags = b"".join(struct.pack("!HH", 0x8100, v) for v in vlans)
    return b"\x02" * 6 + b"\x04" * 6 + tags + struct.pack("!H", ethertype) + payload


def frame(
    data: bytes, *, number: int = 1, time: float = 100.25, linktype: int = 1, wire: int | None = None
) -> Frame:
    return Frame(number, time, 0, linktype, data, len(data) if wire is None else wire)


DATA_V6 = ip6(CN, HOA, 6, tcp(b"x" * 100))
DATA_V4 = ip4(V4A, V4B, 6, tcp(b"y" * 50))

# name -> (frame bytes on Ethernet, ethertype, expected (via, outer_src, outer_dst, src, dst, hao, rh2))
RO = "route-optimised"
ACCEPTED = {
    "ip6ip6 to MN": (ip6(HA, COA, 41, DATA_V6), 0x86DD, ("tunnel", HA, COA, CN, HOA, None, None)),
    "ip6ip6 from MN": (
        ip6(COA2, HA, 41, ip6(HOA, CN, 17, udp(5, 6, b"z"))), 0x86DD,
        ("tunnel", COA2, HA, HOA, CN, None, None),
    ),
    "ip4ip6": (ip6(HA, COA, 4, DATA_V4), 0x86DD, ("tunnel", HA, COA, V4A, V4B, None, None)),
    "ip6ip4": (ip4(V4HA, V4A, 41, DATA_V6), 0x0800, ("tunnel", V4HA, V4A, CN, HOA, None, None)),
    "udp v6 in v4": (
        ip4(V4A, V4HA, 17, udp(4191, 4191, DATA_V6)), 0x0800, ("udp", V4A, V4HA, CN, HOA, None, None)
    ),
    "udp v4 in v4": (
        ip4(V4A, V4HA, 17, udp(50000, 4191, DATA_V4)), 0x0800, ("udp", V4A, V4HA, V4A, V4B, None, None)
    ),
    "udp v6 in v6": (
        ip6(COA, HA, 17, udp(4191, 4191, DATA_V6)), 0x86DD, ("udp", COA, HA, CN, HOA, None, None)
    ),
    "HAO": (ip6(COA, CN, 60, hao(6, HOA) + tcp()), 0x86DD, (RO, None, None, COA, CN, HOA, None)),
    "RH2": (ip6(CN, COA, 43, rh2(17, HOA) + udp(1, 2, b"q")), 0x86DD, (RO, None, None, CN, COA, None, HOA)),
    "RH2+HAO": (
        ip6(COA, COA2, 43, rh2(60, HOA) + hao(6, HOA) + tcp()), 0x86DD, (RO, None, None, COA, COA2, HOA, HOA)
    ),
    "plain v6": (DATA_V6, 0x86DD, ("plain", None, None, CN, HOA, None, None)),
    "plain v6 udp": (
        ip6(CN, HOA, 17, udp(53, 53, b"dns")), 0x86DD, ("plain", None, None, CN, HOA, None, None)
    ),
    "plain v4": (DATA_V4, 0x0800, ("plain", None, None, V4A, V4B, None, None)),
}  # fmt: skip

REFUSED = {
    "MH": ip6(COA, HA, 135, mh()),
    "MH old 62": ip6(COA, HA, 62, mh()),
    "BU with HAO": ip6(COA, HA, 60, hao(135, HOA) + mh()),
    "BA with RH2": ip6(HA, COA, 43, rh2(135, HOA) + mh(6)),
    "tunnelled MH": ip6(HA, COA, 41, ip6(HA, HOA, 135, mh())),
    "tunnelled ICMPv6": ip6(HA, COA, 41, ip6(CN, HOA, 58, b"\x80\0\0\0\0\0\0\0")),
    "MH in UDP 4191": ip6(COA, HA, 17, udp(4191, 4191, ip6(HOA, HA, 135, mh()))),
    "MH in UDP 4191 over v4": ip4(V4A, V4HA, 17, udp(4191, 4191, ip6(HOA, HA, 135, mh()))),
    "ICMPv6": ip6(HA, COA, 58, b"\x87\0\0\0" + bytes(20)),
    "ESP": ip6(COA, HA, 50, bytes(32)),
    "AH": ip6(COA, HA, 51, bytes(32)),
    "fragment": ip6(COA, HA, 44, bytes([6, 0, 0, 1, 0, 0, 0, 1]) + tcp()),
    "hop-by-hop": ip6(COA, HA, 0, bytes([6, 0, 1, 4, 0, 0, 0, 0]) + tcp()),
    "dest opts without HAO": ip6(COA, CN, 60, bytes([6, 0, 1, 4, 0, 0, 0, 0]) + tcp()),
    "unknown dest option": ip6(COA, CN, 60, bytes([6, 2, 0x1E, 2, 0, 0, 0xC9, 16]) + a6(HOA) + tcp()),
    "routing type 0": ip6(CN, COA, 43, bytes([6, 2, 0, 1, 0, 0, 0, 0]) + a6(HOA) + tcp()),
    "v4 fragment": ip4(V4A, V4B, 6, tcp(), frag=0x2000),
    "v4 ICMP": ip4(V4A, V4B, 1, bytes(8)),
    "v6 in v4 MH": ip4(V4HA, V4A, 41, ip6(HA, HOA, 135, mh())),
    "payload length too big": ip6(CN, HOA, 6, tcp(), plen=500),
    "inner length mismatch": ip6(HA, COA, 41, ip6(CN, HOA, 6, tcp(), plen=10)),
    "nested tunnel": ip6(HA, COA, 41, ip6(HA, COA2, 41, DATA_V6)),
    "not IP": b"\x12" * 60,
}


def rows_tuple(row) -> tuple:
    return (
        row.via,
        row.outer_src,
        row.outer_dst,
        row.src,
        row.dst,
        row.home_address_option,
        row.routing_type2,
    )


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_accepted_packets_are_counted_with_their_addressing(name: str) -> None:
    packet, ethertype, expected = ACCEPTED[name]
    fast = FastPath(DecodeOptions())
    data = eth(packet, ethertype)
    for i in range(3):
        assert fast.offer(frame(data, number=i + 1, time=100.25 + i * 0.1)), name
    rows = fast.flush()
    assert len(rows) == 1
    assert rows_tuple(rows[0]) == expected
    assert (rows[0].packets, rows[0].bytes, rows[0].second) == (3, 3 * len(data), 100)
    assert (rows[0].first, rows[0].last) == (100.25, pytest.approx(100.45))
    assert fast.flush() == []


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_packets_go_to_the_slow_path(name: str) -> None:
    fast = FastPath(DecodeOptions())
    ethertype = 0x0800 if REFUSED[name][0] >> 4 == 4 else 0x86DD
    assert not fast.offer(frame(eth(REFUSED[name], ethertype)))
    assert fast.flush() == []


def test_signalling_with_the_same_addresses_as_a_known_flow_is_still_refused() -> None:
    fast = FastPath(DecodeOptions())
    assert fast.offer(frame(eth(ip6(HA, COA, 41, ip6(HA, HOA, 6, tcp()))), number=1))
    assert not fast.offer(frame(eth(ip6(HA, COA, 41, ip6(HA, HOA, 135, mh()))), number=2))
    plain = ip6(COA, HA, 6, tcp())
    assert fast.offer(frame(eth(plain)))
    assert not fast.offer(frame(eth(ip6(COA, HA, 135, mh()))))


def offer_via_filter(fast: FastPath, f: Frame) -> bool:
    record = (f.number, f.time, f.interface, f.linktype, f.data, 0, len(f.data), f.wire_length)
    return not list(fast.filter([record]))


@pytest.mark.parametrize("offer", [FastPath.offer, offer_via_filter])
def test_truncated_packets_are_refused_even_for_a_known_flow(offer) -> None:
    fast = FastPath(DecodeOptions())
    data = eth(ACCEPTED["ip6ip6 to MN"][0])
    assert offer(fast, frame(data))
    assert not offer(fast, frame(data[:60], wire=60))  # cut inside the inner header
    assert not offer(fast, frame(data[:94], wire=94))  # whole headers, but a wire shorter than claimed
    assert offer(fast, frame(data[:94], wire=len(data)))  # snapped capture: counted with the wire length
    assert fast.flush()[0].bytes == 2 * len(data)


def test_ethernet_padding_is_fine() -> None:
    fast = FastPath(DecodeOptions())
    small = ip6(CN, HOA, 59, b"")  # 40 bytes: Ethernet pads the frame to 60
    assert fast.offer(frame(eth(small) + bytes(6)))


def test_vlan_tagged_frames() -> None:
    fast = FastPath(DecodeOptions())
    assert fast.offer(frame(eth(ACCEPTED["ip6ip6 to MN"][0], vlans=(10, 20))))
    assert not fast.offer(frame(eth(REFUSED["tunnelled MH"], vlans=(10,))))
    assert rows_tuple(fast.flush()[0]) == ACCEPTED["ip6ip6 to MN"][2]


@pytest.mark.parametrize("name", ["ip6ip6 to MN", "ip6ip6 from MN", "HAO", "plain v6"])  # cacheable ones
def test_single_vlan_tag_flows_are_learnt(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    packet, ethertype, expected = ACCEPTED[name]
    fast = FastPath(DecodeOptions())
    classified: list[int] = []
    classify = fast.classifier.classify
    monkeypatch.setattr(fast.classifier, "classify", lambda *a: classified.append(1) or classify(*a))
    tagged = [frame(eth(packet, ethertype, vlans=(vlan,)), number=n, time=100.0 + n / 10)
              for n, vlan in enumerate([7, 7, 7, 9, 9], start=1)]
    assert [offer_via_filter(fast, f) for f in tagged[:3]] == [True] * 3
    assert [fast.offer(f) for f in tagged[3:]] == [True] * 2
    assert len(classified) == 2  # once per VLAN: the tag is part of the key, later packets hit it
    rows = fast.flush()
    assert [(rows_tuple(r), r.packets) for r in rows] == [(expected, 5)]  # one addressing, one second
    assert not fast.offer(frame(eth(REFUSED["tunnelled MH"], vlans=(7,))))


def link_frames(packet: bytes, version: int) -> list[tuple[int, bytes]]:
    ethertype = 0x86DD if version == 6 else 0x0800
    family = {6: 28, 4: 2}[version]
    return [
        (1, eth(packet, ethertype)),
        (113, struct.pack("!HHH", 0, 1, 6) + b"\x02" * 6 + b"\0\0" + struct.pack("!H", ethertype) + packet),
        (276, struct.pack("!HHIHBB", ethertype, 0, 2, 1, 0, 6) + b"\x02" * 8 + packet),
        (101, packet),
        (228 if version == 4 else 229, packet),
        (0, struct.pack("<I", family) + packet),
        (0, struct.pack(">I", family) + packet),
        (108, struct.pack(">I", family) + packet),
    ]


@pytest.mark.parametrize("name", ["ip6ip6 to MN", "ip6ip4", "HAO", "plain v4"])
def test_every_link_type(name: str) -> None:
    packet, ethertype, expected = ACCEPTED[name]
    for linktype, data in link_frames(packet, 6 if ethertype == 0x86DD else 4):
        fast = FastPath(DecodeOptions())
        assert fast.offer(frame(data, linktype=linktype)) and fast.offer(frame(data, linktype=linktype))
        rows = fast.flush()
        assert [rows_tuple(r) for r in rows] == [expected] and rows[0].packets == 2, linktype
    for linktype, data in link_frames(REFUSED["tunnelled MH"], 6):
        assert not FastPath(DecodeOptions()).offer(frame(data, linktype=linktype))


def test_configured_udp_ports() -> None:
    packet = eth(ip4(V4A, V4HA, 17, udp(5555, 5555, ip6(HOA, HA, 135, mh()))), 0x0800)
    assert FastPath(DecodeOptions()).offer(frame(packet))  # plain UDP on a port nobody configured
    assert not FastPath(DecodeOptions(udp_ports=frozenset({5555}))).offer(frame(packet))


def mixed_capture(seed: int) -> list[Frame]:
    rng = random.Random(seed)
    choices = [eth(p, et) for p, et, _ in ACCEPTED.values()] + [
        eth(p, 0x0800 if p[0] >> 4 == 4 else 0x86DD) for p in REFUSED.values()
    ]
    frames = []
    for number in range(1, 400):
        data = rng.choice(choices)
        frames.append(Frame(number, 1000 + number * 0.01, rng.choice([0, 1]), 1, data, len(data)))
    return frames


def test_filter_yields_exactly_what_offer_refuses_with_the_same_rows() -> None:
    frames = mixed_capture(3)
    one = FastPath(DecodeOptions())
    refused = [f.number for f in frames if not one.offer(f)]
    rows_one = one.flush()
    many = FastPath(DecodeOptions())
    records = [
        (f.number, f.time, f.interface, f.linktype, f.data, 0, len(f.data), f.wire_length) for f in frames
    ]
    assert [r[0] for r in many.filter(records)] == refused
    assert many.flush() == rows_one
    assert sum(r.packets for r in rows_one) == len(frames) - len(refused) == many.accepted


def test_filter_is_lazy_so_rows_can_be_flushed_before_each_slow_record() -> None:
    frames = mixed_capture(5)
    fast = FastPath(DecodeOptions())
    records = [
        (f.number, f.time, f.interface, f.linktype, f.data, 0, len(f.data), f.wire_length) for f in frames
    ]
    for record in fast.filter(records):
        assert all(row.last < record[1] for row in fast.flush())


@pytest.mark.parametrize("offer", [FastPath.offer, offer_via_filter])
def test_counts_are_binned_per_second_across_flushes(offer) -> None:
    fast = FastPath(DecodeOptions())
    data = eth(ACCEPTED["ip6ip6 to MN"][0])
    rows = []
    for number, time in enumerate([1.1, 1.5, 2.2, 2.3, 3.9, 5.0], start=1):
        assert offer(fast, frame(data, number=number, time=time))
        if number in (3, 5):
            rows += fast.flush()
    rows += fast.flush()
    per_second: dict[int, list] = {}
    for row in rows:
        per_second.setdefault(row.second, []).append((row.packets, row.first, row.last))
    assert per_second == {
        1: [(2, 1.1, 1.5)],
        2: [(1, 2.2, 2.2), (1, 2.3, 2.3)],  # one row per flush: the flush cut the second in two
        3: [(1, 3.9, 3.9)],
        5: [(1, 5.0, 5.0)],
    }
    assert fast.flush() == []


def test_flushing_at_every_yielded_record_loses_no_packets() -> None:
    frames = mixed_capture(7)
    fast = FastPath(DecodeOptions())
    records = [
        (f.number, f.time, f.interface, f.linktype, f.data, 0, len(f.data), f.wire_length) for f in frames
    ]
    rows, slow = [], 0
    for _ in fast.filter(records):
        slow += 1
        rows += fast.flush()
    rows += fast.flush()
    assert sum(r.packets for r in rows) == len(frames) - slow == fast.accepted
    assert sum(r.bytes for r in rows) == sum(
        len(f.data) for f in frames if FastPath(DecodeOptions()).offer(f)
    )


def test_accepted_packets_decode_as_plain_data_with_the_same_addresses() -> None:
    """decode_frame as the oracle: nothing the fast path counts is signalling or malformed."""
    fast = FastPath(DecodeOptions())
    for f in mixed_capture(11):
        if not fast.offer(f):
            continue
        packet = decode_frame(f)
        assert packet.mobility is None and packet.icmp6 is None and packet.esp is None, f
        assert not packet.fragment and not packet.malformed, packet.problems
        row = fast.flush()[0]
        outer = (packet.path.outer_src, packet.path.outer_dst)
        if row.via in ("tunnel", "udp"):
            assert (row.outer_src, row.outer_dst, row.src, row.dst) == (
                *outer,
                packet.path.src,
                packet.path.dst,
            )
        else:
            assert (row.src, row.dst) == (packet.path.src, packet.path.dst)
            assert row.home_address_option == packet.path.home_address_option
            assert row.routing_type2 == packet.path.routing_type2


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([0, 1, 101, 108, 113, 228, 229, 276, 7]), st.binary(max_size=120), st.integers(0, 200))
def test_arbitrary_bytes_never_raise(linktype: int, data: bytes, extra_wire: int) -> None:
    fast = FastPath(DecodeOptions())
    taken = fast.offer(Frame(1, 5.0, 0, linktype, data, len(data) + extra_wire))
    declined = list(fast.filter([(2, 5.5, 0, linktype, data, 0, len(data), len(data) + extra_wire)]))
    rows = fast.flush()
    # the same bytes are classified the same way twice; what is counted is in the flushed rows
    assert isinstance(taken, bool) and len(declined) == (0 if taken else 1)
    assert sum(r.packets for r in rows) == fast.accepted == (2 if taken else 0)


VALID = [eth(p, et) for p, et, _ in ACCEPTED.values()] + [eth(p, 0x86DD) for p in REFUSED.values()]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(VALID), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=4))
def test_mutated_packets_accepted_only_when_the_decoder_sees_plain_data(base: bytes, edits: list) -> None:
    data = bytearray(base)
    for at, value in edits:
        if at < len(data):
            data[at] = value
    f = Frame(1, 7.0, 0, 1, bytes(data), len(data))
    fast = FastPath(DecodeOptions())
    fast.offer(f)  # warm the key cache with the packet itself, then offer it again
    if fast.offer(f):
        packet = decode_frame(f)
        assert packet.mobility is None and packet.icmp6 is None and packet.esp is None
        assert not packet.fragment and not packet.malformed


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(VALID), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255), st.integers(-40, 0)), max_size=6),
)
def test_filter_and_offer_agree_on_mutated_and_cut_packets(bases: list, edits: list) -> None:
    """The inlined hot path of filter() decides exactly like offer(), on every packet."""
    frames = []
    for number, base in enumerate(bases * 2, start=1):  # each packet twice: the second hits the caches
        data = bytearray(base)
        for at, value, cut in edits[: number % 7]:
            if at < len(data):
                data[at] = value
            if cut:
                data = data[:cut]
        frames.append(Frame(number, 9.0 + number / 10, 0, 1, bytes(data), len(base)))
    one = FastPath(DecodeOptions())
    refused = [f.number for f in frames if not one.offer(f)]
    many = FastPath(DecodeOptions())
    records = [
        (f.number, f.time, f.interface, f.linktype, f.data, 0, len(f.data), f.wire_length) for f in frames
    ]
    assert [r[0] for r in many.filter(records)] == refused
    assert many.flush() == one.flush()


def test_idle_flows_are_forgotten_and_counted_the_same_when_they_return(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A flow idle for more than IDLE_SECONDS leaves the caches at the next sweep (with its exact
    key and row texts); one still active stays; a forgotten flow that returns is learned again
    and its rows are those an unbounded cache gives."""
    import dissector.fastpath as fastpath

    def walk(idle: int) -> tuple[list[TrafficCount], FastPath]:
        monkeypatch.setattr(fastpath, "IDLE_SECONDS", idle)
        monkeypatch.setattr(fastpath, "SWEEP_SECONDS", 2)
        fast = FastPath(DecodeOptions())
        busy = eth(ip6(HA, COA, 41, DATA_V6))
        quiet = eth(ip6(HA, COA2, 41, DATA_V6))
        rows = []
        for second in range(30):
            assert fast.offer(frame(busy, time=1000.0 + second))
            if second in (0, 1, 25):  # quiet: two packets, then silence, then back at 25 s
                assert fast.offer(frame(quiet, time=1000.5 + second))
            rows.extend(fast.flush())
        return rows, fast

    bounded, fast = walk(5)
    unbounded, never = walk(1 << 30)
    assert bounded == unbounded
    assert never.evicted == 0
    # the quiet flow (last seen at 1001.5) went at the first sweep past 1006, came back at 1025.5
    # and was learned again; by the end (1029) both flows are recent, so both are cached
    assert fast.evicted == 1
    flows = fast._flows[0]
    assert len(flows) == 2 and sorted(e[fastpath.LAST] for e in flows.values()) == [1025.5, 1029.0]
    quiet_rows = [(r.first, r.packets) for r in bounded if r.outer_dst == COA2]
    assert quiet_rows == [(1000.5, 1), (1001.5, 1), (1025.5, 1)]


def test_idle_flows_leave_the_exact_keys_and_row_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep empties the exact keys and row texts; only flows still known refill them."""
    import dissector.fastpath as fastpath

    monkeypatch.setattr(fastpath, "IDLE_SECONDS", 3)
    monkeypatch.setattr(fastpath, "SWEEP_SECONDS", 1)
    fast = FastPath(DecodeOptions())
    old = eth(ip6(HA, COA2, 41, DATA_V6))
    new = eth(ip6(HA, COA, 41, DATA_V6))
    assert fast.offer(frame(old, time=100.0)) and fast.offer(frame(old, time=100.1))
    fast.flush()
    assert len(fast._exact[0]) == 1 and len(fast._texts) == 1
    for t in range(101, 110):
        assert fast.offer(frame(new, time=t + 0.5))
        assert fast.offer(frame(new, time=t + 0.6))  # after a sweep: its exact key comes back
        rows = fast.flush()
        assert [(r.outer_dst, r.packets) for r in rows] == [(COA, 2)]
    assert [e[fastpath.CANONICAL][1][16:] for e in fast._flows[0].values()] == [a6(COA)]
    assert [entry for _, entry in fast._exact[0].values()] in ([], list(fast._flows[0].values()))
    assert all(t[2] == COA for t in fast._texts.values())  # (via, outer_src, outer_dst, ...)
    assert fast.evicted == 1
