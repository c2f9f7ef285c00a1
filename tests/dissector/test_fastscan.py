"""The C accelerator (dissector._fastscan) changes nothing but speed.

Every capture here is read twice through ``FastPath.filter`` -- with the accelerator and with
``MCOAVIZ_PURE_PYTHON=1`` -- flushing before each declined record as the pipeline does; the
traffic rows, the declined records (number, time, interface, bytes), the reader's problems
and frame count must be identical. The pure-Python path is the reference.
"""

from __future__ import annotations

import mmap
import random
import socket
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dissector.fastpath as fastpath
from dissector.capture import CaptureParser
from dissector.decode import DecodeOptions
from dissector.fastpath import FastPath
from mcoaviz.simulate.scale import write_scale_capture
from tests.conftest import IN_CI, SAMPLES
from tests.dissector.capture.capture_bytes import (
    PCAP_MODIFIED,
    PCAP_NSEC,
    PCAP_USEC,
    block,
    epb,
    idb,
    pcap_file,
    shb,
    spb,
)


@pytest.fixture(autouse=True)
def _needs_extension() -> None:
    if fastpath._fastscan is None:
        if IN_CI:
            pytest.fail("dissector._fastscan is not built (scripts/test.sh builds it with pip install -e .)")
        pytest.skip("dissector._fastscan is not built (pip install -e . with a C compiler)")


def run(
    data: bytes, pure: bool, monkeypatch: pytest.MonkeyPatch, count_only: bool = False
) -> tuple[Any, ...]:
    """Everything observable of one filtered walk (rows flushed before each declined record;
    ``count_only``: the span of each flush instead of rows, as `mcoaviz decode` runs it)."""
    monkeypatch.setenv(fastpath.PURE_PYTHON_VARIABLE, "1" if pure else "0")
    fast = FastPath(DecodeOptions())
    fast.count_only = count_only
    parser = CaptureParser()
    rows: list[Any] = []
    declined = []

    def flush() -> None:
        found = fast.flush()
        if count_only:
            assert found == [] and not fast._dirty and not fast._done and not fast._other
            rows.append(fast.span)
        rows.extend(found)

    for number, time, interface, linktype, buf, offset, caplen, wire_length in fast.filter(
        parser.records(data)
    ):
        flush()
        packet = bytes(buf[offset : offset + caplen])
        declined.append((number, time, interface, linktype, packet, wire_length))
    flush()
    problems = [(p.layer, p.offset, p.reason) for p in parser.problems]
    table = fast._table.stats() if fast._table is not None else None  # the C flow table, if used
    return rows, declined, fast.accepted, problems, parser.frames, fast.accelerated, table, fast.evicted


def assert_same(data: bytes, monkeypatch: pytest.MonkeyPatch, *, engaged: bool = True) -> dict[str, int]:
    """The accelerated walk equals the pure one, counting rows and count_only (`decode`) alike;
    the C flow table's statistics (of the walk with rows)."""
    accelerated = run(data, False, monkeypatch)
    pure = run(data, True, monkeypatch)
    assert pure[5] == 0
    if engaged:
        assert accelerated[5] > 0, "the accelerator counted nothing"
    assert accelerated[:5] == pure[:5]
    counted = run(data, False, monkeypatch, count_only=True)
    counted_pure = run(data, True, monkeypatch, count_only=True)
    if engaged:
        assert counted[5] > 0, "the accelerator counted nothing in count_only mode"
    assert counted[:5] == counted_pure[:5]
    assert counted[1:5] == pure[1:5]  # the same records declined, packets counted, problems, frames
    return accelerated[6]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def scale_capture(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("scale") / "scale.pcapng"
    write_scale_capture(path, 6, 3, 4.0, 2500, 3)
    return path.read_bytes()


def scale_records(data: bytes) -> list[tuple[float, bytes, int]]:
    """(time, packet bytes, wire length) of every packet of a capture."""
    return [
        (time, bytes(buf[offset : offset + caplen]), wire)
        for _, time, _, _, buf, offset, caplen, wire in CaptureParser().records(data)
    ]


@pytest.mark.parametrize("snaplen", [0, 60, 96])
def test_scale_mode_captures_agree(tmp_path: Path, snaplen: int, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "scale.pcapng"
    write_scale_capture(path, 8, 3, 3.0, 3000, 1, snaplen=snaplen)
    assert_same(path.read_bytes(), monkeypatch, engaged=snaplen != 60)


def test_short_c_windows_agree(scale_capture: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastpath, "WINDOW", 3000)  # a record through Python every few packets
    assert_same(scale_capture, monkeypatch)


def test_memory_mapped_capture_agrees(
    scale_capture: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over a memory map, with pages released behind the walk every WINDOW bytes."""
    monkeypatch.setattr(fastpath, "WINDOW", 1 << 16)
    path = tmp_path / "capture.pcapng"
    path.write_bytes(scale_capture)
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        results = [run(mapped, pure, monkeypatch) for pure in (False, True)]  # type: ignore[arg-type]
    assert results[0][5] > 0
    assert results[0][:5] == results[1][:5]
    assert results[0][:5] == run(scale_capture, True, monkeypatch)[:5]


def test_small_exact_table_agrees(scale_capture: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastpath, "EXACT_LIMIT", 5)  # the exact table is emptied again and again
    assert_same(scale_capture, monkeypatch)


@pytest.mark.parametrize(
    ("limit", "grows", "clears"), [(2, False, True), (40, True, True), (1 << 19, True, False)]
)
def test_flow_table_growth_and_overflow_agree(
    scale_capture: bytes, monkeypatch: pytest.MonkeyPatch, limit: int, grows: bool, clears: bool
) -> None:
    """A C flow table that must grow, or is full and starts over again and again (its slots
    written back first), changes nothing."""
    monkeypatch.setattr(fastpath, "TABLE_LIMIT", limit)
    table = assert_same(scale_capture, monkeypatch)
    assert table["limit"] == limit
    assert 0 < table["used"] <= limit
    assert (table["grown"] > 0) == grows
    assert (table["cleared"] > 0) == clears


def bulk_only_capture(data: bytes, interfaces: int) -> bytes:
    """The bulk data packets of a capture (what FastPath counts) as a pcapng file whose packets
    are spread over ``interfaces`` interfaces: C walks seconds of it without returning (only the
    first packet of each flow goes through Python), so entries roll inside C, pending counts and all."""
    fast = FastPath(DecodeOptions())
    out = bytearray(shb("<") + b"".join(idb("<", 1, tsresol=6) for _ in range(interfaces)))
    for n, (time, frame, wire) in enumerate(scale_records(data)):
        interface = n % interfaces
        if fast.offer_raw(time, interface, 1, frame, 0, len(frame), wire):
            out += epb("<", interface, round(time * 10**6), frame, wire)
    return bytes(out)


@pytest.mark.parametrize("interfaces", [1, 3])
def test_seconds_rolling_inside_c_agree(
    scale_capture: bytes, monkeypatch: pytest.MonkeyPatch, interfaces: int
) -> None:
    data = bulk_only_capture(scale_capture, interfaces)
    accelerated = run(data, False, monkeypatch)
    assert accelerated[5] > 0.9 * accelerated[2]  # C counted nearly everything ...
    assert len(accelerated[1]) == 0  # ... with nothing declined: no flush between seconds
    assert len({row.second for row in accelerated[0]}) > 2
    assert {row.interface for row in accelerated[0]} == set(range(interfaces))
    assert accelerated[:5] == run(data, True, monkeypatch)[:5]


def test_flow_table_pending_counts_are_written_back_before_python_looks(
    scale_capture: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counts pending in C reach the entries before Python can look at them: C walks that stop
    every few packets (window ends: written back at once; new flows: left pending until the next
    record handed out, flush or the end of the walk) agree, and so does a table cleared from
    Python after the walk."""
    monkeypatch.setattr(fastpath, "WINDOW", 700)
    assert_same(scale_capture, monkeypatch)
    monkeypatch.setenv(fastpath.PURE_PYTHON_VARIABLE, "0")
    fast = FastPath(DecodeOptions())
    counted = sum(1 for _ in fast.filter(CaptureParser().records(scale_capture)))
    assert counted > 0 and fast._table is not None and len(fast._table) > 0
    fast._table.clear()
    assert len(fast._table) == 0 and fast._table.stats()["cleared"] == 1
    rows = fast.flush()
    assert sum(row.packets for row in rows) == fast.accepted


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.pcap*")), ids=lambda p: p.name)
def test_sample_captures_agree(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same(sample.read_bytes(), monkeypatch, engaged=False)


@pytest.mark.parametrize(
    ("magic", "order", "unit"),
    [(PCAP_USEC, "<", 10**6), (PCAP_NSEC, ">", 10**9), (PCAP_MODIFIED, "<", 10**6)],
)
def test_pcap_files_agree(
    scale_capture: bytes, magic: int, order: str, unit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    packets = []
    for time, frame, wire in scale_records(scale_capture):
        units = round(time * unit)
        packets.append((units // unit, units % unit, frame, wire))
    assert_same(pcap_file(packets, magic=magic, order=order), monkeypatch)


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_interfaces_resolutions_and_other_blocks_agree(
    scale_capture: bytes, order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sections, three interfaces with their own if_tsresol / if_tsoffset (nanosecond
    stamps beyond 2**53 included), interleaved; Simple Packet and unknown blocks between."""
    rng = random.Random(7)
    clocks = [(9, 0, 10**9), (0x94, 3600, 2**20), (6, -86400, 10**6)]  # tsresol, tsoffset, units/s
    out = bytearray(shb(order) + b"".join(idb(order, 1, tsresol=r, tsoffset=o) for r, o, _ in clocks))
    for n, (time, frame, wire) in enumerate(scale_records(scale_capture)):
        if n == 3000:  # a second section: interface ids go on from the first section's
            out += shb(order) + idb(order, 1, tsresol=9)
            clocks = [(9, 0, 10**9)]
        interface = rng.randrange(len(clocks))
        _, offset, units = clocks[interface]
        out += epb(order, interface, round((time - offset) * units), frame, wire)
        if rng.random() < 0.01:
            out += spb(order, frame, wire)
        if rng.random() < 0.01:
            out += block(order, 0x0BAD, b"unknown block body")
    assert_same(bytes(out), monkeypatch)


def test_truncated_tail_agrees(scale_capture: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    for cut in (len(scale_capture) - 3, len(scale_capture) // 2 + 17):
        assert_same(scale_capture[:cut], monkeypatch)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32 - 1),
    flips=st.integers(1, 40),
    cut=st.floats(0.05, 1.0),
)
def test_corrupted_captures_never_crash_and_agree(
    scale_capture: bytes, monkeypatch: pytest.MonkeyPatch, seed: int, flips: int, cut: float
) -> None:
    rng = random.Random(seed)
    data = bytearray(scale_capture[: max(64, int(len(scale_capture) * cut))])
    for _ in range(flips):
        at = rng.randrange(len(data))
        if rng.random() < 0.3:  # a plausible-looking length or type word
            data[at : at + 4] = struct.pack("<I", rng.choice([0, 6, 32, 0xFFFFFFFF, rng.randrange(1 << 16)]))
        else:
            data[at] = rng.randrange(256)
    assert_same(bytes(data[: len(data)]), monkeypatch, engaged=False)


def test_garbage_arguments_raise_cleanly() -> None:
    """The C functions check their arguments (a programming error, never a crash)."""
    from dissector import _fastscan

    with pytest.raises(TypeError):
        _fastscan.pcapng((), b"", 0, 0, 0, 0.0, [], False)
    for table in (None, _fastscan.FlowTable(4)):
        state = (bytes(256), bytes(256), {}, {}, {}, [], [], 8, table)
        # positions outside the buffer are clamped, interfaces of the wrong shape stop the walk
        assert _fastscan.pcapng(state, b"\x06" + bytes(64), -5, 10**9, 0, 0.0, [None], False)[:2] == (65, 0)
        assert _fastscan.pcap(state, bytes(40), 0, 40, 0, 16, False, 1e-6, 1) == (0, 0, 0)
    with pytest.raises(TypeError):  # the table slot holds a FlowTable or None
        bad_state = (bytes(256), bytes(256), {}, {}, {}, [], [], 8, {})
        _fastscan.pcap(bad_state, bytes(40), 0, 40, 0, 16, False, 1e-6, 1)
    with pytest.raises(ValueError):
        _fastscan.FlowTable(0)


def test_whole_analysis_agrees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mcoaviz.pipeline.analyse hands its memory-mapped walk to the accelerator: same tables."""
    from mcoaviz.pipeline import analyse

    path = tmp_path / "scale.pcapng"
    write_scale_capture(path, 4, 2, 3.0, 2000, 5)
    tables = []
    for pure in ("0", "1"):
        monkeypatch.setenv(fastpath.PURE_PYTHON_VARIABLE, pure)
        tables.append(analyse(path).to_dict())
    assert tables[0]["traffic"], "no traffic rows to compare"
    assert tables[0] == tables[1]


def test_rows_built_in_c_are_the_dataclass_rows() -> None:
    import dataclasses
    import gc

    from dissector import _fastscan
    from dissector.records import TrafficCount

    fields = tuple(field.name for field in dataclasses.fields(TrafficCount))
    addresses = ("2001:db8::1", "2001:db8::2", "10.0.0.1", "10.0.0.2")
    values = (1, 1700000000, "tunnel", *addresses, None, None, 3, 1500)
    plain, holding_a_list = _fastscan.instances(
        TrafficCount, fields, [(*values, 1.5, 2.5), (*values, 1.5, [2.5])]
    )
    assert plain == TrafficCount(*values, 1.5, 2.5)
    assert hash(plain) == hash(TrafficCount(*values, 1.5, 2.5))
    assert not gc.is_tracked(plain)  # only atoms: in no cycle
    assert gc.is_tracked(holding_a_list)  # a container inside: the collector must see it
    with pytest.raises(TypeError):
        _fastscan.instances(TrafficCount, fields[:-1], [])


def test_rows_ordered_in_c_as_by_the_two_stable_sorts() -> None:
    from dissector import _fastscan

    rng = random.Random(5)
    items = [(rng.randrange(3), rng.choice([1.0, 1.5, -0.0, 0.0, 2.25]), n) for n in range(300)]
    expected = sorted(sorted(items, key=lambda item: item[0]), key=lambda item: item[1])
    ordered = list(items)
    assert _fastscan.order_rows(ordered, 1, 0) is True
    assert ordered == expected
    for odd in [(0, float("nan"), -1), (0, 3, -1), (2**70, 1.0, -1), (0,)]:  # Python sorts these
        unordered = [*items, odd]
        assert _fastscan.order_rows(unordered, 1, 0) is False
        assert unordered == [*items, odd]


def vlan_tagged(data: bytes, every: int) -> bytes:
    """The scale capture's packets as a pcapng file where every ``every``-th frame carries an
    802.1Q tag (VLAN id from the packet number), as a home agent's mirror port shows them."""
    out = bytearray(shb("<") + idb("<", 1, tsresol=6))
    for n, (time, frame, wire) in enumerate(scale_records(data)):
        if n % every == 0:
            frame = frame[:12] + struct.pack("!HH", 0x8100, 100 + n % 3) + frame[12:]
            wire += 4
        out += epb("<", 0, round(time * 10**6), frame, wire)
    return bytes(out)


@pytest.mark.parametrize("every", [1, 3])
def test_vlan_tagged_frames_agree(scale_capture: bytes, monkeypatch: pytest.MonkeyPatch, every: int) -> None:
    # tagged frames take the single-tag key plan (C files it under a pseudo link type)
    data = vlan_tagged(scale_capture, every)
    accelerated = run(data, False, monkeypatch)
    assert accelerated[:5] == run(data, True, monkeypatch)[:5]
    assert accelerated[2] > 0.9 * accelerated[4]  # nearly every packet counted (the rest is signalling)
    assert accelerated[5] > 0.8 * accelerated[2]  # ... and most of them by C, tagged ones included


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        ({41: 72}, "IPv6-in-IPv6 flow keys are split 38 + 34 bytes around the inner length"),
        ({59: 8}, "a span shorter than the IPv6 header"),
        ({60: 0}, "a minimum payload without a span"),
    ],
)
def test_edited_span_tables_are_refused(edit: dict[int, int], why: str) -> None:
    """An edit of KEY_SPAN / MIN_PAYLOAD that the C readers would trust for their bounds fails
    loudly instead of reading outside the packet."""
    from dissector import _fastscan
    from dissector.fastclassify import KEY_SPAN, MIN_PAYLOAD

    spans, minimum = bytearray(KEY_SPAN), bytearray(MIN_PAYLOAD)
    for nh, value in edit.items():
        spans[nh] = value
        if value == 0:
            minimum[nh] = 24
    for table in (None, _fastscan.FlowTable(4)):
        state = (bytes(spans), bytes(minimum), {}, {}, {}, [], [], 8, table)
        with pytest.raises(ValueError, match="outside what the accelerator reads safely"):
            _fastscan.pcap(state, bytes(40), 0, 40, 0, 16, False, 1e-6, 1)
    # the shipped tables are accepted (the same call with them walks nothing and returns)
    state = (bytes(KEY_SPAN), bytes(MIN_PAYLOAD), {}, {}, {}, [], [], 8, None)
    assert _fastscan.pcap(state, bytes(40), 0, 40, 0, 16, False, 1e-6, 1) == (0, 0, 0)


def run_watching(data: bytes, pure: bool, monkeypatch: pytest.MonkeyPatch, after: int) -> tuple[Any, ...]:
    """A filtered walk that starts watching the first row's inner source address at the
    ``after``-th declined record (as the pipeline does at a RETURNHOME BA)."""
    monkeypatch.setenv(fastpath.PURE_PYTHON_VARIABLE, "1" if pure else "0")
    fast = FastPath(DecodeOptions())
    rows: list[Any] = []
    declined = []
    watched = None
    cut = 0
    for number, *_rest in fast.filter(CaptureParser().records(data)):
        rows.extend(fast.flush())
        declined.append(number)
        if watched is None and len(declined) >= after and rows:
            watched = next(row.src for row in rows if row.src and ":" in row.src)
            fast.watch([watched])
            cut = number
    rows.extend(fast.flush())
    return rows, declined, fast.accepted, (watched, cut), fast.accelerated


@pytest.mark.parametrize("after", [1, 5])
def test_watched_addresses_are_declined_on_both_paths(
    scale_capture: bytes, monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    accelerated = run_watching(scale_capture, False, monkeypatch, after)
    pure = run_watching(scale_capture, True, monkeypatch, after)
    assert accelerated[:4] == pure[:4]
    assert accelerated[4] > 0, "the accelerator counted nothing"
    rows, declined, _accepted, (watched, cut), _ = pure
    records, records_time = {}, {}
    for number, time, _i, linktype, buf, offset, caplen, _w in CaptureParser().records(scale_capture):
        records[number] = (bytes(buf[offset : offset + caplen]), linktype)
        records_time[number] = time
    raw = socket.inet_pton(socket.AF_INET6, watched)
    # every later frame carrying the address was handed over, none counted
    later = [n for n, (frame, _) in records.items() if n > cut and raw in bytes(frame)]
    assert later, "the watched address has no later frames"
    assert set(later) <= set(declined)
    addressing = ("src", "dst", "outer_src", "outer_dst")
    last_counted = max(row.last for row in rows if watched in [getattr(row, a) for a in addressing])
    assert last_counted <= records_time[cut]
    unwatched = run(scale_capture, True, monkeypatch)
    assert len(declined) == len(unwatched[1]) + len(later)


def test_watch_without_change_keeps_the_caches() -> None:
    fast = FastPath(DecodeOptions())
    fast._flows[0] = {(b"k",): [0] * 7}
    fast.watch([])
    assert fast._flows[0]
    fast.watch(["2001:db8::1", "not an address"])
    assert fast.watched == {"2001:db8::1"} and not fast._flows[0]
    fast._flows[0][(b"k",)] = [0] * 7
    fast.watch([])  # fewer addresses: learned flows stay valid
    assert fast._flows[0] and fast.watched == frozenset()


# ---------------------------------------------------------------- level 3 in C (_fastscan_src/admit.c)

# link type -> the link header of an IPv6 frame (VLAN: Ethernet with one 802.1Q tag)
IPV6_LINKS = {
    1: b"\x02" * 6 + b"\x04" * 6 + b"\x86\xdd",
    -2: b"\x02" * 6 + b"\x04" * 6 + b"\x81\x00\x00\x64\x86\xdd",
    113: b"\x00\x00\x00\x01\x00\x06" + b"\x04" * 8 + b"\x86\xdd",
    276: b"\x86\xdd\x00\x00" + b"\x00\x00\x00\x02\x00\x01\x00\x06" + b"\x04" * 8,
    101: b"",
    229: b"",
    0: struct.pack("<I", 28),
    108: struct.pack(">I", 24),
}


def addr(n: int, host: int) -> bytes:
    return socket.inet_pton(socket.AF_INET6, f"2001:db8:{n:x}::{host:x}")


def ipv6(nh: int, payload: bytes, src: bytes, dst: bytes, plen: int | None = None) -> bytes:
    length = len(payload) if plen is None else plen
    return struct.pack("!IHBB", 0x60000000, length, nh, 64) + src + dst + payload


def tcp(size: int = 20) -> bytes:
    return struct.pack("!HHII", 40000, 80, 1, 2) + bytes(size - 12)


def udp(sport: int, dport: int, payload: bytes = bytes(12)) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def rh2(nh: int, home: bytes) -> bytes:
    return bytes([nh, 2, 2, 1]) + bytes(4) + home


def hao(nh: int, home: bytes, pad: bytes = b"\x01\x02\x00\x00") -> bytes:
    body = pad + b"\xc9\x10" + home
    body += bytes((-(len(body) + 2)) % 8)
    return bytes([nh, (len(body) + 2) // 8 - 1]) + body


def network_variants(n: int) -> list[tuple[str, bytes]]:
    """(name, IPv6 packet) of flow ``n``: every outcome Classifier has for an IPv6 packet."""
    src, dst, home = addr(n, 1), addr(n, 2), addr(n, 3)
    inner = ipv6(6, tcp(), addr(n + 0x100, 1), addr(n + 0x100, 2))
    ipv4 = ipv4_packet(6, tcp(), n)
    return [
        ("tcp", ipv6(6, tcp(), src, dst)),
        ("no next header", ipv6(59, b"", src, dst)),
        ("udp", ipv6(17, udp(5000 + n, 53), src, dst)),
        ("dsmipv6 udp", ipv6(17, udp(4191, 4191, inner), src, dst)),
        ("ike", ipv6(17, udp(500, 500), src, dst)),
        ("nat-t", ipv6(17, udp(1234, 4500), src, dst)),
        ("short udp", ipv6(17, udp(1, 2)[:6], src, dst)),
        ("ip6ip6", ipv6(41, inner, src, dst)),
        ("ip6ip6 inner length off", ipv6(41, inner[:4] + b"\x00\x07" + inner[6:], src, dst)),
        ("ip6ip6 carrying icmpv6", ipv6(41, inner[:6] + b"\x3a" + inner[7:], src, dst)),
        ("ip4in6", ipv6(4, ipv4, src, dst)),
        ("rh2", ipv6(43, rh2(6, home) + tcp(), src, dst)),
        ("rh2 udp", ipv6(43, rh2(17, home) + udp(1, 2), src, dst)),
        ("rh2 bad type", ipv6(43, rh2(6, home)[:2] + b"\x00" + rh2(6, home)[3:] + tcp(), src, dst)),
        ("hao", ipv6(60, hao(6, home) + tcp(), src, dst)),
        ("hao 32 bytes", ipv6(60, hao(6, home, b"\x01\x0a" + bytes(10)) + tcp(), src, dst)),
        ("hao unknown option", ipv6(60, hao(6, home, b"\x05\x02\x00\x00") + tcp(), src, dst)),
        ("dstopts without hao", ipv6(60, bytes([6, 2, 1, 20]) + bytes(20) + tcp(), src, dst)),
        ("rh2 and hao", ipv6(43, rh2(60, home) + hao(6, home) + tcp(), src, dst)),
        ("icmpv6", ipv6(58, bytes(8), src, dst)),
        ("mobility header", ipv6(135, bytes([59, 1, 5, 0]) + bytes(12), src, dst)),
        ("fragment", ipv6(44, bytes([6, 0, 0, 1]) + bytes(4) + tcp(), src, dst)),
        ("payload length beyond the wire", ipv6(6, tcp(), src, dst, plen=400)),
        ("payload length short", ipv6(6, tcp(), src, dst, plen=8)),
        ("version 4 nibble", b"\x45" + ipv6(6, tcp(), src, dst)[1:]),
    ]


# link type -> the link header of an IPv4 frame
IPV4_LINKS = {
    1: b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00",
    -2: b"\x02" * 6 + b"\x04" * 6 + b"\x81\x00\x00\xc8\x08\x00",
    113: b"\x00\x00\x00\x01\x00\x06" + b"\x04" * 8 + b"\x08\x00",
    276: b"\x08\x00\x00\x00" + b"\x00\x00\x00\x02\x00\x01\x00\x06" + b"\x04" * 8,
    101: b"",
    229: b"",  # raw IPv6: an IPv4 packet there is refused
    0: struct.pack("<I", 2),
    108: struct.pack(">I", 2),
}


def ipv4_packet(proto: int, payload: bytes, n: int, first: int = 0x45, fragment: int = 0x4000,
                total: int | None = None) -> bytes:
    length = 20 + len(payload) if total is None else total
    src, dst = bytes([10, 1, n, 1]), bytes([192, 0, 2, n])
    return struct.pack("!BBHHHBBH", first, 0, length, n, fragment, 64, proto, 0) + src + dst + payload


def ipv4_variants(n: int) -> list[tuple[str, bytes]]:
    inner6 = ipv6(6, tcp(), addr(n + 0x200, 1), addr(n + 0x200, 2))
    return [
        ("tcp", ipv4_packet(6, tcp(), n)),
        ("udp", ipv4_packet(17, udp(40000 + n, 53), n)),
        ("dsmipv6 udp", ipv4_packet(17, udp(4191, 4191, inner6), n)),
        ("dsmipv6 udp, bad inner", ipv4_packet(17, udp(4191, 4191, b"\x50" + inner6[1:]), n)),
        ("ike", ipv4_packet(17, udp(500, 500), n)),
        ("6in4", ipv4_packet(41, inner6, n)),
        ("6in4 short inner", ipv4_packet(41, inner6[:30], n)),
        ("options", ipv4_packet(6, bytes(4) + tcp(), n, first=0x46)),
        ("fragment", ipv4_packet(6, tcp(), n, fragment=0x2000)),
        ("total length beyond the wire", ipv4_packet(6, tcp(), n, total=900)),
        ("total length under 20", ipv4_packet(6, tcp(), n, total=12)),
        ("icmp", ipv4_packet(1, bytes(8), n)),
    ]


def one_packet_flows(linktypes: list[int], copies: int = 1, snaplen: int = 0) -> bytes:
    """A pcapng capture, one interface per link type, every variant of many flows ``copies``
    times (later copies of a learned flow go through levels 1-2); VLAN frames on Ethernet."""
    out = bytearray(shb("<"))
    interfaces = []
    for linktype in linktypes:
        real = 1 if linktype == -2 else linktype
        if real not in interfaces:
            interfaces.append(real)
            out += idb("<", real, tsresol=6)
    units = 1_700_000_000 * 10**6
    for n in range(40):
        for linktype in linktypes:
            frames = [IPV6_LINKS[linktype] + packet for _name, packet in network_variants(n)]
            frames += [IPV4_LINKS[linktype] + packet for _name, packet in ipv4_variants(n)]
            for frame in frames:
                for copy in range(copies):
                    units += 137_000 + copy  # ~7 packets per second: flows roll over seconds
                    data = frame[:snaplen] if snaplen else frame
                    at = interfaces.index(1 if linktype == -2 else linktype)
                    out += epb("<", at, units, data, len(frame))
    return bytes(out)


@pytest.mark.parametrize("copies", [1, 3])
def test_first_packets_are_classified_in_c_as_in_python(monkeypatch: pytest.MonkeyPatch, copies: int) -> None:
    data = one_packet_flows(list(IPV6_LINKS), copies)
    with_c = run(data, False, monkeypatch)
    assert with_c[:5] == run(data, True, monkeypatch)[:5]
    monkeypatch.setenv(fastpath.C_ADMIT_VARIABLE, "0")  # every new flow through Python's _admit
    without = run(data, False, monkeypatch)
    assert without[:5] == with_c[:5]
    # C counts every packet Python counts -- but for an interface's very first packet, a new
    # flow (Python makes the interface's dicts); Ethernet with and without a VLAN tag share one
    # interface. Without level 3 in C, the first packets of flows and all per-second data
    # (DSMIPv6 UDP, IPv4-in-IPv6, 32-byte HAO headers, HAO + RH2, ...) are Python's.
    interfaces = len({1 if linktype == -2 else linktype for linktype in IPV6_LINKS})
    assert with_c[5] == with_c[2] - interfaces
    # IPv6: dsmipv6 udp, ip4in6, rh2 udp, hao 32 bytes, rh2 and hao; IPv4 (not on raw IPv6):
    # tcp, udp, dsmipv6 udp, 6in4
    per_second = (5 * len(IPV6_LINKS) + 4 * (len(IPV4_LINKS) - 1)) * 40 * copies
    assert with_c[5] - without[5] == per_second + 6 * 40 * len(IPV6_LINKS) - interfaces
    vias = {row.via for row in with_c[0]}
    assert vias == {"plain", "tunnel", "udp", "route-optimised"}


@pytest.mark.parametrize("snaplen", [54, 60, 78, 96])
def test_first_packets_cut_by_the_snap_length_agree(monkeypatch: pytest.MonkeyPatch, snaplen: int) -> None:
    assert_same(one_packet_flows([1, -2, 113], 2, snaplen), monkeypatch, engaged=False)


def test_watched_addresses_leave_new_flows_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    data = one_packet_flows([1], 2)
    results = []
    for pure in (False, True):
        monkeypatch.setenv(fastpath.PURE_PYTHON_VARIABLE, "1" if pure else "0")
        fast = FastPath(DecodeOptions())
        fast.watch([socket.inet_ntop(socket.AF_INET6, addr(7, 1))])
        declined = [number for number, *_ in fast.filter(CaptureParser().records(data))]
        results.append((fast.flush(), declined, fast.accepted))
    assert results[0] == results[1]
    assert len(results[0][1]) > 40 * 6  # the refused kinds, and every packet of flow 7


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    linktype=st.sampled_from(sorted(IPV6_LINKS)),
    variant=st.integers(0, 24 + 12),
    edits=st.lists(st.tuples(st.integers(0, 130), st.integers(0, 255)), min_size=1, max_size=6),
    extra=st.integers(-8, 8),
)
def test_hostile_first_packets_agree(
    monkeypatch: pytest.MonkeyPatch, linktype: int, variant: int, edits: list[tuple[int, int]], extra: int
) -> None:
    """Header bytes overwritten anywhere in the link, IPv6, extension and upper headers, wire
    lengths off by a few bytes: C's level 3 learns exactly what Python's would, or declines."""
    real = 1 if linktype == -2 else linktype
    out = bytearray(shb("<") + idb("<", real, tsresol=6))
    units = 1_700_000_000 * 10**6
    for n in range(3):
        if variant < 25:
            frame = bytearray(IPV6_LINKS[linktype] + network_variants(n)[variant][1])
        else:
            frame = bytearray(IPV4_LINKS[linktype] + ipv4_variants(n)[variant - 25][1])
        for at, value in edits:
            if at < len(frame):
                frame[at] = value
        for copy in range(3):  # the same hostile flow again: levels 1-2 on what level 3 learned
            units += 400_000
            out += epb("<", 0, units, bytes(frame), max(0, len(frame) + extra * copy))
    assert_same(bytes(out), monkeypatch, engaged=False)


def test_records_refused_in_c_skip_pythons_admit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A record C's level 3 found refused by Classifier (here: Mobility Header, ICMPv6, fragments,
    IKE, bad lengths) is handed over without Python's _admit classifying it again; the others
    it declines still go through _admit."""
    data = one_packet_flows([1, -2, 113, 0])
    calls = []
    for pure in (False, True):
        monkeypatch.setenv(fastpath.PURE_PYTHON_VARIABLE, "1" if pure else "0")
        fast = FastPath(DecodeOptions())
        admitted: list[int] = []
        real = fast._admit

        def counting(*args: Any, real: Any = real, admitted: list[int] = admitted) -> bool:
            admitted.append(args[4])
            return bool(real(*args))

        fast._admit = counting  # type: ignore[method-assign]
        declined = [record[0] for record in fast.filter(CaptureParser().records(data))]
        calls.append((declined, len(admitted)))
    (c_declined, c_admits), (py_declined, py_admits) = calls
    assert c_declined == py_declined and len(c_declined) > 40 * 4 * 10
    # in C, only each interface's first packet (a new flow: Python makes its dicts) reaches _admit
    assert c_admits == 4 - 1  # Ethernet with and without the VLAN tag: one interface
    assert py_admits > len(py_declined)


@pytest.mark.parametrize("idle", [-1, 0, 1])
def test_idle_eviction_agrees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, idle: int) -> None:
    """Flows forgotten at every sweep (idle -1: all of them; the C table emptied each time)
    change nothing, accelerated or not, and give the rows an unbounded cache gives."""
    path = tmp_path / "scale.pcapng"
    write_scale_capture(path, 8, 3, 12.0, 1500, 2)
    data = path.read_bytes()
    unbounded = run(data, True, monkeypatch)
    monkeypatch.setattr(fastpath, "IDLE_SECONDS", idle)
    monkeypatch.setattr(fastpath, "SWEEP_SECONDS", 1)
    assert_same(data, monkeypatch)
    bounded = run(data, False, monkeypatch)
    assert bounded[:5] == unbounded[:5]
    assert unbounded[7] == 0
    assert bounded[7] > 0  # flows were forgotten (and learned again)


def test_clearing_the_flow_table_gives_its_memory_back(
    scale_capture: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The idle sweep's clear() shrinks the C table to its starting size (it grows again with the
    flows active afterwards); the walk after it still counts what the pure path counts."""
    table = run(scale_capture, False, monkeypatch)[6]
    assert table["capacity"] > 8 and table["used"] > 0
    fast = FastPath(DecodeOptions())
    monkeypatch.setenv(fastpath.PURE_PYTHON_VARIABLE, "0")

    def walk() -> list[Any]:
        rows: list[Any] = []
        for _ in fast.filter(CaptureParser().records(scale_capture)):
            rows.extend(fast.flush())
        return rows + fast.flush()

    first = walk()
    grown = fast._table.stats()
    fast._table.clear()
    after = fast._table.stats()
    assert (after["used"], after["capacity"], after["cleared"]) == (0, 8, grown["cleared"] + 1)
    assert walk() == first  # the same packets again: relearned, the same rows
    assert fast._table.stats()["capacity"] == grown["capacity"]


def test_tick_flushes_during_long_runs_of_bulk_data(
    scale_capture: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The accelerated walk calls ``tick`` every WINDOW bytes; a flush there (the pipeline's)
    only splits rows at those points: the counts per (interface, second, addressing) stay."""
    monkeypatch.setattr(fastpath, "WINDOW", 4096)
    monkeypatch.setenv(fastpath.PURE_PYTHON_VARIABLE, "0")

    def walk(ticking: bool) -> tuple[dict[tuple[Any, ...], list[Any]], int, int]:
        fast = FastPath(DecodeOptions())
        rows: list[Any] = []
        ticks = [0]

        def tick() -> None:
            ticks[0] += 1
            rows.extend(fast.flush())

        fast.tick = tick if ticking else None
        for _ in fast.filter(CaptureParser().records(scale_capture)):
            rows.extend(fast.flush())
        rows.extend(fast.flush())
        merged: dict[tuple[Any, ...], list[Any]] = {}
        for r in rows:
            key = (r.interface, r.second, r.via, r.outer_src, r.outer_dst, r.src, r.dst)
            m = merged.setdefault(key, [0, 0, r.first, r.last])
            m[0] += r.packets
            m[1] += r.bytes
            m[2], m[3] = min(m[2], r.first), max(m[3], r.last)
        return merged, ticks[0], len(rows)

    ticked, ticks, nrows = walk(True)
    plain, none, plain_rows = walk(False)
    assert none == 0
    assert len(scale_capture) // 8192 <= ticks <= len(scale_capture) // 4096  # about every 4 KiB walked
    assert ticked == plain and nrows >= plain_rows


@pytest.mark.parametrize("pure", [True, False])
def test_count_only_span_is_the_least_and_greatest_time_counted_in_any_order(
    pure: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stamps out of order (flows going back in time within a second): a count_only flush's span
    is the least and greatest time of the packets counted since the last flush, however the
    packets reached it (a new flow classified in full, a known one through the caches)."""
    ethernet = b"\x02" * 6 + b"\x04" * 6 + b"\x86\xdd"
    flow = [ethernet + ipv6(6, tcp(), addr(n, 1), addr(n, 2)) for n in range(2)]
    message = ethernet + ipv6(135, bytes([59, 1, 5, 0]) + bytes(12), addr(9, 1), addr(9, 2))
    stamps = [(0, 10.5), (0, 10.2), (1, 10.7), (0, 10.9), (1, 10.05), (None, 10.3), (0, 11.4), (0, 11.1)]
    out = bytearray(shb("<") + idb("<", 1, tsresol=6))
    for n, time in stamps:
        out += epb("<", 0, round(time * 10**6), message if n is None else flow[n])
    spans, declined, accepted, _, _, in_c, *_ = run(bytes(out), pure, monkeypatch, count_only=True)
    assert [record[0] for record in declined] == [6]  # the message, frame 6
    assert spans == [(10.05, 10.9), (11.1, 11.4)]  # before the message; at the end
    assert accepted == 7
    assert in_c == (0 if pure else 7)


def test_count_only_learns_new_flows_in_the_c_table_alone(
    scale_capture: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """count_only (`decode`): C classifies a new flow's first packet and its table alone learns
    the flow -- no entry, no canonical key in Python's dicts -- with the same packets counted."""
    monkeypatch.setenv(fastpath.PURE_PYTHON_VARIABLE, "0")
    fast = FastPath(DecodeOptions())
    fast.count_only = True
    declined = [record[0] for record in fast.filter(CaptureParser().records(scale_capture))]
    assert fast._table is not None and len(fast._table) > 0
    assert fast.accelerated == fast.accepted > 0
    assert not any(fast._flows.values()) and not any(fast._exact.values()) and not fast._other
    pure = run(scale_capture, True, monkeypatch, count_only=True)
    assert ([record[0] for record in pure[1]], pure[2]) == (declined, fast.accepted)


def test_idle_eviction_forgets_the_same_flows_in_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep's scan in C (``drop_idle``) forgets as many flows as the Python scan."""
    path = tmp_path / "scale.pcapng"
    write_scale_capture(path, 8, 3, 12.0, 1500, 2)
    data = path.read_bytes()
    monkeypatch.setattr(fastpath, "IDLE_SECONDS", 1)
    monkeypatch.setattr(fastpath, "SWEEP_SECONDS", 1)
    accelerated, pure = run(data, False, monkeypatch), run(data, True, monkeypatch)
    assert accelerated[:5] == pure[:5]
    assert accelerated[7] == pure[7] > 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True), st.integers(-(1 << 60), 1 << 60)), max_size=40),
       st.one_of(st.integers(-(1 << 60), 1 << 60), st.floats(allow_nan=True)))
def test_drop_idle_is_the_python_scan(lasts: list[float | int], cut: float | int) -> None:
    """drop_idle(flows, cut, LAST) leaves what ``{k: e for k, e in flows.items() if not e[LAST] < cut}``
    leaves (ints above 2**53, NaN and mixed types compared as Python compares them), in order."""
    flows = {(i,): [0, 0, 0.0, last] for i, last in enumerate(lasts)}
    expected = {k: e for k, e in flows.items() if not e[3] < cut}
    assert fastpath._fastscan.drop_idle(flows, cut, 3) == len(lasts) - len(expected)
    assert list(flows.items()) == list(expected.items())


def test_drop_idle_refuses_other_entries() -> None:
    with pytest.raises(TypeError):
        fastpath._fastscan.drop_idle({1: (0, 0, 0.0, 1.0)}, 5, 3)  # a tuple, not a list
    with pytest.raises(TypeError):
        fastpath._fastscan.drop_idle({1: [0.0]}, 5, 3)  # too short
    with pytest.raises(ValueError):
        fastpath._fastscan.drop_idle({}, 5, -1)
    flows = {1: [0, 0, 0.0, 1.0]}
    with pytest.raises(TypeError):
        fastpath._fastscan.drop_idle(flows, "5", 3)  # float < str: Python's TypeError
    assert flows == {1: [0, 0, 0.0, 1.0]}  # nothing deleted before the error


def _flush_texts(canonicals: list[Any]) -> list[tuple[Any, ...]]:
    """The addressing texts flush_items gives each canonical key (a fresh texts cache)."""
    dirty = [[1, 100, 1.0, 1.0, canonical, 0, n] for n, canonical in enumerate(canonicals)]
    items, _ = fastpath._fastscan.flush_items([], dirty, {}, fastpath._texts)
    return [item[2:9] for item in items]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(range(6)), min_size=1, max_size=60), st.randoms(use_true_random=False))
def test_address_texts_in_c_are_the_python_texts(picks: list[int], rng: random.Random) -> None:
    """Texts made in C, the cache of address texts hit or not, are ``fastpath._texts``: IPv6 and
    IPv4 pairs, HAO and RH2, addresses that differ only in their last byte or share their first
    four bytes across families."""
    v6 = [bytes(15) + bytes([i]) for i in range(3)] + [bytes([i]) * 16 for i in range(1, 4)]
    v4 = [a[:4] for a in v6]
    shapes = []
    for _ in picks:
        a, b = rng.choice(v6), rng.choice(v6)
        shapes.append(rng.choice([
            ("tunnel", a + b, rng.choice(v6) + rng.choice(v6), None, None),
            ("tunnel", rng.choice(v4) + rng.choice(v4), a + b, None, None),
            ("route-optimised", None, a + b, rng.choice(v6), None),
            ("plain", None, rng.choice(v4) + rng.choice(v4), None, rng.choice(v6)),
        ]))
    assert _flush_texts(shapes) == [fastpath._texts(c) for c in shapes]


def test_an_address_seen_again_reuses_its_text() -> None:
    """Two flows through one address: its text is one str object, found in the cache."""
    ha, coa, hoa = (bytes.fromhex("20010db8" + "00" * 11 + f"{i:02x}") for i in (1, 2, 3))
    cns = [bytes.fromhex("20010db8" + "ff" * 11 + f"{i:02x}") for i in (4, 5)]
    hits_before, _ = fastpath._fastscan.address_texts()
    first, second = _flush_texts([("tunnel", ha + coa, cn + hoa, None, None) for cn in cns])
    assert first[1:3] == ("2001:db8::1", "2001:db8::2") and first[4] == "2001:db8::3"
    assert first[3] == "2001:db8:ffff:ffff:ffff:ffff:ffff:ff04"
    assert second[1] is first[1] and second[2] is first[2] and second[4] is first[4]
    assert second[3] != first[3]
    assert fastpath._fastscan.address_texts()[0] >= hits_before + 3
