"""encode -> decode_frame round trip: every MH message type and every typed mobility option,
built with random field values, decodes to the same fields, with a valid checksum and no problem."""

from __future__ import annotations

import dataclasses
import socket

from hypothesis import given, settings
from hypothesis import strategies as st

from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions, decode_frame
from dissector.encode import binding_identifier, dsmip_udp, ethernet_for, ipv6_packet, mobility_header
from dissector.encode.options import RFC_H
from dissector.records import (
    AlternateCoA,
    BindingAck,
    BindingAuthData,
    BindingError,
    BindingIdentifier,
    BindingRefreshAdvice,
    BindingRefreshRequest,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    Frame,
    HomeTest,
    HomeTestInit,
    IPv4AddressAck,
    IPv4CareOfAddress,
    IPv4HomeAddress,
    LinkLayerAddress,
    MobileNetworkPrefix,
    MobilityOption,
    NATDetection,
    NonceIndices,
    Pad1,
    PadN,
    RawMessage,
    UnknownOption,
)

MAC_A, MAC_B = b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02"

u8, u16, u32 = st.integers(0, 255), st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)
# addresses in inet_ntop text form, as the records carry them
v6 = st.integers(1, 2**128 - 1).map(lambda n: socket.inet_ntop(socket.AF_INET6, n.to_bytes(16, "big")))
v4 = st.integers(1, 2**32 - 1).map(lambda n: socket.inet_ntop(socket.AF_INET, n.to_bytes(4, "big")))
lifetime = st.integers(0, 0xFFFF).map(lambda units: units * 4)
cookie = st.binary(min_size=8, max_size=8)
dialects = st.sampled_from([Dialect.RFC5648, Dialect.DRAFT05])

bodies = st.one_of(
    st.just(BindingRefreshRequest()),
    st.builds(HomeTestInit, cookie),
    st.builds(CareOfTestInit, cookie),
    st.builds(HomeTest, u16, cookie, cookie),
    st.builds(CareOfTest, u16, cookie, cookie),
    st.builds(lambda seq, word, life: BindingUpdate(seq, word & 0xFFE0, life, ()), u16, u16, lifetime),
    st.builds(
        lambda status, byte, seq, life: BindingAck(status, byte & 0xFC, seq, life, ()), u8, u8, u16, lifetime
    ),
    st.builds(BindingError, u8, v6),
)
# MH types 8-23 are kept raw: data of 8k+2 octets fills the message to an 8-octet multiple
raw_messages = st.tuples(
    st.integers(8, 23), st.integers(0, 4).flatmap(lambda k: st.binary(min_size=8 * k + 2, max_size=8 * k + 2))
)


@st.composite
def bid_options(draw: st.DrawFn, dialect: Dialect) -> BindingIdentifier:
    coa = draw(st.one_of(st.none(), v6, v4))
    home = draw(st.booleans())
    over = draw(st.booleans())
    reserved = draw(st.integers(0, 0x0F if dialect is Dialect.DRAFT05 else 0))
    return binding_identifier(
        draw(st.integers(1, 0xFFFF)),
        coa,
        status=draw(u8),
        home=home,
        overwrite=over,
        dialect=dialect,
        extra_flags=reserved,
    )


def typed_options(dialect: Dialect) -> st.SearchStrategy[MobilityOption]:
    return st.one_of(
        st.builds(lambda i: BindingRefreshAdvice(0, i * 4), u16),
        st.builds(lambda a: AlternateCoA(0, a), v6),
        st.builds(lambda h, c: NonceIndices(0, h, c), u16, u16),
        st.builds(lambda p, n: MobileNetworkPrefix(0, n, p), v6, st.integers(0, 128)),
        st.builds(lambda c, a: LinkLayerAddress(0, c, a), u8, st.binary(min_size=6, max_size=6)),
        st.builds(lambda n, p, a: IPv4HomeAddress(0, n, p, a), st.integers(1, 32), st.booleans(), v4),
        st.builds(lambda s, n, a: IPv4AddressAck(0, s, n, a), u8, st.integers(0, 32), v4),
        st.builds(lambda f, r: NATDetection(0, f, r), st.booleans(), u32),
        st.builds(lambda a: IPv4CareOfAddress(0, a), v4),
        st.builds(lambda t, d: UnknownOption(0, t, d), st.integers(36, 255), st.binary(max_size=12)),
        bid_options(dialect),
    )


def _strip(option: MobilityOption) -> MobilityOption:
    return dataclasses.replace(option, offset=0)


def _decode(frame_bytes: bytes, dialect: Dialect):  # type: ignore[no-untyped-def]
    frame = Frame(1, 1.0, 0, 1, frame_bytes, len(frame_bytes))
    return decode_frame(frame, DecodeOptions(dialect=dialect))


@settings(max_examples=120, deadline=None)
@given(
    body=bodies,
    data=st.data(),
    dialect=dialects,
    src=v6,
    dst=v6,
    hao=st.one_of(st.none(), v6),
    rh2=st.one_of(st.none(), v6),
    esp=st.booleans(),
)
def test_message_and_options_round_trip(body, data, dialect, src, dst, hao, rh2, esp) -> None:  # type: ignore[no-untyped-def]
    options = data.draw(st.lists(typed_options(dialect), max_size=4))
    if data.draw(st.booleans()):
        options.append(BindingAuthData(0, data.draw(st.binary(min_size=12, max_size=12))))  # BAD last
    mh = mobility_header(body, options)
    packet = ipv6_packet(src, dst, 135, mh, hao=hao, rh2=rh2, esp=(0x100, 7) if esp else None)
    decoded = _decode(ethernet_for(MAC_A, MAC_B, packet), dialect)
    assert not decoded.malformed, decoded.problems
    mobility = decoded.mobility
    assert mobility is not None
    assert mobility.checksum_ok is True
    assert mobility.header_len == len(mh)
    assert mobility.mh_type == mh[2]
    got_body = mobility.body
    if isinstance(body, BindingUpdate | BindingAck):
        assert got_body is not None
        assert dataclasses.replace(got_body, flags=()) == body  # type: ignore[type-var]
    else:
        assert got_body == body
    typed = [_strip(o) for o in mobility.options if not isinstance(o, Pad1 | PadN)]
    assert typed == [_strip(o) for o in options]
    assert decoded.path.home_address_option == hao
    assert decoded.path.routing_type2 == rh2


@settings(max_examples=60, deadline=None)
@given(dialect=dialects, bids=st.data(), outer_src=v4, outer_dst=v4, sport=u16, hoa=v6, ha=v6)
def test_dsmipv6_udp_bu_round_trip(dialect, bids, outer_src, outer_dst, sport, hoa, ha) -> None:  # type: ignore[no-untyped-def]
    options = bids.draw(st.lists(bid_options(dialect), min_size=1, max_size=3))
    mh = mobility_header(BindingUpdate(5, 0x8000 | 0x4000, 400, ()), options)
    packet = dsmip_udp(outer_src, outer_dst, sport, 4191, ipv6_packet(hoa, ha, 135, mh))
    decoded = _decode(ethernet_for(MAC_A, MAC_B, packet), dialect)
    assert not decoded.malformed, decoded.problems
    assert decoded.path.tunnel == "udp"
    assert (decoded.path.outer_src, decoded.path.src) == (outer_src, hoa)
    assert decoded.mobility is not None and decoded.mobility.checksum_ok is True
    assert [_strip(o) for o in decoded.mobility.bids] == [_strip(o) for o in options]


def test_rfc_home_flag_reads_back_as_home() -> None:
    option = binding_identifier(3, "2001:db8:1::100", home=True)
    assert option.flags_byte == RFC_H and option.home_flag


@settings(max_examples=40, deadline=None)
@given(message=raw_messages, src=v6, dst=v6)
def test_raw_message_types_round_trip(message: tuple[int, bytes], src: str, dst: str) -> None:
    mh_type, data = message
    mh = mobility_header(RawMessage(data), mh_type=mh_type)
    decoded = _decode(ethernet_for(MAC_A, MAC_B, ipv6_packet(src, dst, 135, mh)), Dialect.RFC5648)
    assert not decoded.malformed, decoded.problems
    assert decoded.mobility is not None
    assert (decoded.mobility.mh_type, decoded.mobility.body) == (mh_type, RawMessage(data))
    assert decoded.mobility.checksum_ok is True


def test_neighbor_discovery_round_trip() -> None:
    from dissector.encode import (
        neighbor_advertisement,
        neighbor_solicitation,
        router_advertisement,
        solicited_node,
    )

    hoa = "2001:db8:1::100"
    ns = ipv6_packet("::", solicited_node(hoa), 58, neighbor_solicitation(hoa), hop_limit=255)
    na = ipv6_packet(
        "fe80::1", "ff02::1", 58, neighbor_advertisement(hoa, MAC_A, solicited=False), hop_limit=255
    )
    ra = ipv6_packet(
        "fe80::1",
        "ff02::1",
        58,
        router_advertisement(MAC_B, [("2001:db8:1::", 64)], home_agent=True),
        hop_limit=255,
    )
    got = [_decode(ethernet_for(MAC_A, MAC_B, p), Dialect.RFC5648) for p in (ns, na, ra)]
    assert all(not p.malformed for p in got)
    icmp = [p.icmp6 for p in got]
    assert icmp[0] is not None and (icmp[0].type, icmp[0].target, icmp[0].source_lla) == (135, hoa, None)
    assert icmp[1] is not None and (icmp[1].type, icmp[1].target, icmp[1].target_lla) == (136, hoa, MAC_A)
    assert "O" in icmp[1].flags and "R" not in icmp[1].flags and "S" not in icmp[1].flags
    assert icmp[2] is not None and (icmp[2].type, icmp[2].source_lla) == (134, MAC_B)
    assert icmp[2].prefixes == ("2001:db8:1::/64",) and "H" in icmp[2].flags


def test_ipv6_in_ipv4_round_trip() -> None:
    from dissector.encode import ip6ip4

    inner = ipv6_packet("2001:db8:1::100", "2001:db8:c0::10", 59, b"")
    decoded = _decode(ethernet_for(MAC_A, MAC_B, ip6ip4("192.0.2.5", "198.51.100.1", inner)), Dialect.RFC5648)
    assert not decoded.malformed, decoded.problems
    assert decoded.path.tunnel == "ip6ip4"
    assert (decoded.path.outer_src, decoded.path.src) == ("192.0.2.5", "2001:db8:1::100")
