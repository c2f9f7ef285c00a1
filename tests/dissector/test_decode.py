"""decode_frame as a whole: link layers, record plumbing, and never raising on any bytes."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from dissector.codepoints import Dialect
from dissector.decode import DEFAULT, DecodeOptions, decode_frame
from dissector.records import BindingUpdate, Frame, Packet
from tests.dissector.handbuilt import HA, MN_HOA, bu_body, ethernet, frame, ipv6, mh, padn


def bu_packet() -> bytes:
    return ipv6(MN_HOA, HA, 135, mh(5, bu_body(4, 0x8000, 10) + padn(4), src=MN_HOA, dst=HA))


def is_bu(packet: Packet) -> bool:
    m = packet.mobility
    return m is not None and isinstance(m.body, BindingUpdate) and m.body.seq == 4 and m.checksum_ok is True


def test_options_defaults() -> None:
    assert DEFAULT == DecodeOptions(Dialect.RFC5648, 35, frozenset({4191}))


def test_frame_fields_are_carried_over() -> None:
    f = Frame(42, 1234.5, 3, 1, ethernet(bu_packet()), 200)
    packet = decode_frame(f)
    assert (packet.frame, packet.time, packet.interface, packet.wire_length) == (42, 1234.5, 3, 200)
    assert is_bu(packet)


def test_ethernet_with_vlan_stack() -> None:
    packet = decode_frame(frame(ethernet(bu_packet(), vlans=(10, 20))))
    assert is_bu(packet) and packet.path.vlans == (10, 20)
    assert packet.path.mac_dst == bytes.fromhex("00005e005301")


def test_raw_linktypes() -> None:
    assert is_bu(decode_frame(frame(bu_packet(), linktype=101)))
    assert is_bu(decode_frame(frame(bu_packet(), linktype=229)))


def test_linux_sll_and_sll2() -> None:
    sll = struct.pack("!HHH8sH", 0, 1, 6, bytes(8), 0x86DD)
    assert is_bu(decode_frame(frame(sll + bu_packet(), linktype=113)))
    sll2 = struct.pack("!HHIHBB8s", 0x86DD, 0, 2, 1, 0, 6, bytes(8))
    assert is_bu(decode_frame(frame(sll2 + bu_packet(), linktype=276)))


def test_bsd_loopback() -> None:
    assert is_bu(decode_frame(frame(struct.pack("<I", 24) + bu_packet(), linktype=0)))


def test_non_ip_ethertype_is_just_a_frame() -> None:
    packet = decode_frame(frame(ethernet(b"\0" * 28, ethertype=0x0806)))
    assert packet.mobility is None and packet.path.src is None and packet.problems == ()


def test_empty_frame_is_a_problem_not_an_exception() -> None:
    packet = decode_frame(frame(b""))
    assert packet.malformed and packet.problems[0].offset == 0


# --- never raise -------------------------------------------------------------------------------

OPTIONS = st.sampled_from([DEFAULT, DecodeOptions(Dialect.DRAFT05, 7, frozenset({4191, 5000}))])


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), options=OPTIONS)
def test_arbitrary_ethernet_frames_never_raise(data: bytes, options: DecodeOptions) -> None:
    packet = decode_frame(frame(data, linktype=1), options)
    assert all(0 <= p.offset <= max(len(data), 1) for p in packet.problems)
    assert not any("internal decoder error" in p.reason for p in packet.problems)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), linktype=st.sampled_from([0, 101, 113, 228, 229, 276, 147]))
def test_arbitrary_raw_frames_never_raise(data: bytes, linktype: int) -> None:
    packet = decode_frame(frame(data, linktype=linktype))
    assert not any("internal decoder error" in p.reason for p in packet.problems)


@settings(max_examples=500, deadline=None)
@given(body=st.binary(max_size=200), snapped=st.booleans(),
       next_header=st.sampled_from([135, 62, 60, 43, 44, 50, 51, 41, 4, 17, 58, 0]))
def test_arbitrary_bytes_after_a_valid_ipv6_header_never_raise(body: bytes, next_header: int,
                                                                snapped: bool) -> None:
    data = ethernet(ipv6(MN_HOA, HA, next_header, body))
    packet = decode_frame(frame(data, wire_length=len(data) + (100 if snapped else 0)))
    # A body that reads as an inner IPv4/IPv6 header makes a tunnel: src is then the inner one.
    outer = packet.path.outer_src if packet.path.tunnel else packet.path.src
    assert outer == MN_HOA
    assert not any("internal decoder error" in p.reason for p in packet.problems)


@settings(max_examples=500, deadline=None)
@given(mh_type=st.integers(0, 255), header_len=st.integers(0, 255), rest=st.binary(max_size=120))
def test_arbitrary_mobility_headers_never_raise(mh_type: int, header_len: int, rest: bytes) -> None:
    body = bytes([59, header_len, mh_type, 0, 0, 0]) + rest
    packet = decode_frame(frame(ethernet(ipv6(MN_HOA, HA, 135, body))))
    assert packet.mobility is not None and packet.mobility.mh_type == mh_type
    assert not any("internal decoder error" in p.reason for p in packet.problems)


@settings(max_examples=500, deadline=None)
@given(position=st.integers(0, 200), value=st.integers(0, 255), cut=st.integers(0, 220))
def test_mutated_signalling_frames_never_raise(position: int, value: int, cut: int) -> None:
    from tests.dissector.handbuilt import MN_COA, a6, bid, dest_opts_hao

    body = bu_body(4, 0x8040, 10) + padn(6) + bid(1, flags=0x80, coa=a6(MN_COA)) + padn(2) + bid(2)
    body += padn((-(6 + len(body))) % 8) if (6 + len(body)) % 8 else b""
    message = mh(5, body, src=MN_HOA, dst=HA)
    data = bytearray(ethernet(ipv6(MN_COA, HA, 60, dest_opts_hao(135, MN_HOA) + message)))
    data[position % len(data)] = value
    packet = decode_frame(frame(bytes(data[:cut])))
    assert not any("internal decoder error" in p.reason for p in packet.problems)


@settings(max_examples=400, deadline=None)
@given(body=st.binary(max_size=200), proto=st.sampled_from([41, 17, 50, 51, 4, 135]),
       over_udp=st.booleans())
def test_arbitrary_bytes_inside_ipv4_and_dsmipv6_udp_never_raise(body: bytes, proto: int,
                                                                 over_udp: bool) -> None:
    from tests.dissector.handbuilt import ipv4, udp

    payload = udp(4191, 4191, body) if over_udp else body
    data = ethernet(ipv4("198.51.100.9", "203.0.113.1", 17 if over_udp else proto, payload), 0x0800)
    packet = decode_frame(frame(data))
    assert packet.path.outer_src in (None, "198.51.100.9")
    assert not any("internal decoder error" in p.reason for p in packet.problems)
