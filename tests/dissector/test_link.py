"""Link layers: every supported link type, VLAN stacks, truncation, and tshark agreement."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dissector.link import parse_link
from tests.conftest import require_tool
from tests.dissector.capture.capture_bytes import epb, idb, shb

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
IP6 = bytes.fromhex("60000000 0000 3b 40") + bytes(16) + bytes(15) + b"\x01"
IP4 = bytes.fromhex("45000014 0000 0000 40 3b 0000 0a000001 0a000002")


def ether(ethertype: int, payload: bytes, tags: list[tuple[int, int]] = ()) -> bytes:
    out = MAC_B + MAC_A
    for tpid, vid in tags:
        out += struct.pack("!HH", tpid, 0x2000 | vid)  # priority bits must not leak into the id
    return out + struct.pack("!H", ethertype) + payload


def sll(protocol: int, payload: bytes) -> bytes:
    return struct.pack("!HHH", 0, 1, 6) + MAC_A + b"\0\0" + struct.pack("!H", protocol) + payload


def sll2(protocol: int, payload: bytes) -> bytes:
    return struct.pack("!HHIHBB", protocol, 0, 3, 1, 0, 6) + MAC_A + b"\0\0" + payload


def test_plain_ethernet_ipv6_and_ipv4() -> None:
    six = parse_link(1, ether(0x86DD, IP6))
    assert (six.offset, six.network, six.ethertype, six.vlans, six.problems) == (14, 6, 0x86DD, (), ())
    assert six.mac_src == MAC_A and six.mac_dst == MAC_B
    four = parse_link(1, memoryview(ether(0x0800, IP4)))
    assert (four.offset, four.network) == (14, 4)


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_vlan_stacks_of_any_depth(depth: int) -> None:
    tpids = [0x88A8, 0x8100, 0x9100, 0x8100, 0x8100]
    tags = [(tpids[i], 100 + i) for i in range(depth)]
    link = parse_link(1, ether(0x86DD, IP6, tags))
    assert link.vlans == tuple(100 + i for i in range(depth))
    assert (link.offset, link.network) == (14 + 4 * depth, 6)


def test_truncated_vlan_tag_is_a_problem() -> None:
    frame = ether(0x86DD, IP6, [(0x8100, 5)])[:16]
    link = parse_link(1, frame)
    assert link.network is None and link.problems[0].layer == "vlan" and link.problems[0].offset == 14


def test_short_ethernet() -> None:
    link = parse_link(1, b"\x00" * 13)
    assert link.network is None and "truncated" in link.problems[0].reason


def test_non_ip_ethertype_is_not_ip_without_error() -> None:
    link = parse_link(1, ether(0x0806, b"\0" * 28))
    assert link.network is None and link.ethertype == 0x0806 and link.problems == ()


def test_llc_snap_carries_ipv6() -> None:
    payload = b"\xaa\xaa\x03\x00\x00\x00\x86\xdd" + IP6
    link = parse_link(1, MAC_B + MAC_A + struct.pack("!H", len(payload)) + payload)
    assert (link.offset, link.network) == (22, 6)


def test_linux_sll_v1_and_v2() -> None:
    v1 = parse_link(113, sll(0x86DD, IP6))
    assert (v1.offset, v1.network, v1.mac_src) == (16, 6, MAC_A)
    v2 = parse_link(276, sll2(0x0800, IP4))
    assert (v2.offset, v2.network, v2.mac_src) == (20, 4, MAC_A)
    tagged = parse_link(276, sll2(0x8100, struct.pack("!HH", 42, 0x86DD) + IP6))
    assert (tagged.offset, tagged.network, tagged.vlans) == (24, 6, (42,))
    assert parse_link(113, b"\0" * 15).problems and parse_link(276, b"\0" * 19).problems


@pytest.mark.parametrize(("linktype", "network"), [(101, 0), (12, 0), (14, 0), (228, 4), (229, 6)])
def test_raw_link_types(linktype: int, network: int) -> None:
    link = parse_link(linktype, IP6)
    assert (link.offset, link.network, link.problems) == (0, network, ())


@pytest.mark.parametrize("linktype", [0, 108])
@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize(("family", "network"), [(2, 4), (24, 6), (28, 6), (30, 6)])
def test_loopback_both_byte_orders(linktype: int, order: str, family: int, network: int) -> None:
    link = parse_link(linktype, struct.pack(order + "I", family) + IP6)
    assert (link.offset, link.network, link.ethertype, link.problems) == (4, network, family, ())


def test_loopback_unknown_family_and_short() -> None:
    odd = parse_link(0, struct.pack(">I", 7) + IP6)
    assert odd.network is None and "family 7" in odd.problems[0].reason
    assert parse_link(0, b"\x02\x00").problems[0].layer == "loopback"


def test_unsupported_link_type_is_a_warning() -> None:
    link = parse_link(147, IP6)
    assert link.network is None and link.problems[0].severity == "warning"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999]), st.binary(max_size=64))
def test_arbitrary_bytes_never_raise(linktype: int, data: bytes) -> None:
    link = parse_link(linktype, data)
    assert link.network is None or 0 <= link.offset <= max(len(data), 24)


@pytest.mark.tshark
def test_vlans_and_macs_agree_with_tshark(tmp_path: Path) -> None:
    tshark = require_tool("tshark")
    frames = [
        (0, ether(0x86DD, IP6, [(0x88A8, 7), (0x8100, 300)])),
        (0, ether(0x86DD, IP6, [(0x8100, 4094)])),
        (1, sll(0x86DD, IP6)),
        (2, sll2(0x0800, IP4)),
        (3, struct.pack("<I", 30) + IP6),
        (4, struct.pack(">I", 24) + IP6),
    ]
    linktypes = [1, 113, 276, 0, 108]
    data = shb() + b"".join(idb("<", lt) for lt in linktypes)
    data += b"".join(epb("<", i, n * 1_000_000, f) for n, (i, f) in enumerate(frames))
    path = tmp_path / "links.pcapng"
    path.write_bytes(data)
    out = subprocess.run(
        [tshark, "-r", str(path), "-T", "fields", "-E", "aggregator=,", "-e", "ieee8021ad.id",
         "-e", "vlan.id", "-e", "ipv6.dst", "-e", "ip.dst", "-e", "sll.src.eth"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert len(out) == len(frames)
    for (interface, frame), line in zip(frames, out, strict=True):
        ad_ids, vlan_ids, ip6_dst, ip4_dst, sll_src = line.split("\t")
        link = parse_link(linktypes[interface], frame)
        # tshark names 802.1ad (S-tag, outermost here) and 802.1Q tags in two different fields
        assert ",".join(str(v) for v in link.vlans) == ",".join(x for x in (ad_ids, vlan_ids) if x)
        assert link.network == (6 if ip6_dst else 4 if ip4_dst else None)
        payload = frame[link.offset :]
        if link.network == 6:
            assert payload[24:40] == bytes(15) + b"\x01" and ip6_dst == "::1"
        if sll_src:
            assert link.mac_src == bytes.fromhex(sll_src.replace(":", ""))
