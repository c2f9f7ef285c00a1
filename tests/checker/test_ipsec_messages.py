"""MCOA512 / MCOA920 (draft §9.3.1, §9.2): when the capture lets them be judged, and when not."""

from __future__ import annotations

import dataclasses

from dissector.decode import decode_frame
from dissector.encode import ethernet_for, ipv6_packet, mobility_header
from dissector.records import HomeTestInit, Packet
from tests.checker.builders import (
    CN,
    COA1,
    COA2,
    COA3,
    HA,
    HOA,
    ba,
    bid,
    brr,
    bu,
    check,
    hits,
    hoti,
    mpa,
    mps,
)
from tests.dissector.handbuilt import frame


def reg2() -> list[Packet]:
    return [bu(1, bid(1, COA1), bid(2, COA2)), ba(1, bid(1), bid(2))]


def test_mps_from_an_unregistered_coa_is_not_judged() -> None:
    # COA3 holds no binding: the HA may drop it (6275 §10.6.2 only binds it to registered CoAs)
    found = check(*reg2(), mps(src=COA3), brr(dst=COA3, at=1010.0))
    assert hits(found, "MCOA920") == []


def test_mps_at_a_point_that_never_shows_the_ha_sending_to_that_coa_is_not_judged() -> None:
    # nothing from the HA to COA2 is visible where the MPS was captured (the BA went to COA1)
    found = check(*reg2(), mps(src=COA2), brr(at=1010.0))
    assert hits(found, "MCOA920") == []


def test_mps_near_the_capture_end_is_not_judged() -> None:
    found = check(*reg2(), brr(dst=COA2), mps(src=COA2))
    assert hits(found, "MCOA920") == []


def test_mpa_after_the_retransmission_timer_does_not_answer() -> None:
    # INITIAL_SOLICIT_TIMER = 3 s (6275 §12): an MPA 4 s later is too late for this MPS
    found = check(*reg2(), brr(dst=COA2), mps(src=COA2, at=1004.0), mpa(dst=COA2, at=1008.0))
    assert hits(found, "MCOA920") == [4]


def test_mpa_with_another_identifier_does_not_answer() -> None:
    found = check(*reg2(), brr(dst=COA2), mps(src=COA2, identifier=5), mpa(dst=COA2, identifier=6),
                  brr(at=1010.0))
    assert hits(found, "MCOA920") == [4]


def test_one_mps_seen_at_two_capture_points_is_one_finding() -> None:
    first = mps(src=COA2, at=1004.0)
    second = dataclasses.replace(mps(src=COA2, at=1004.01), interface=1)
    found = check(*reg2(), brr(dst=COA2), first, second, brr(at=1010.0))
    assert hits(found, "MCOA920") == [4]


def test_hoti_without_a_capture_point_beyond_the_ha_is_not_judged() -> None:
    # only the MN's side: no HoTI/HoT outside a tunnel anywhere in the capture
    found = check(*reg2(), hoti(outer_src=COA2), brr(at=1010.0))
    assert hits(found, "MCOA512") == []


def test_hoti_from_an_unregistered_coa_is_not_judged() -> None:
    found = check(*reg2(), hoti(outer_src=COA1), hoti(), hoti(outer_src=COA3, cookie=b"3" * 8),
                  brr(at=1010.0))
    assert hits(found, "MCOA512") == []


def test_hoti_forwarded_after_the_retransmission_timer_is_not_this_one() -> None:
    # INITIAL_BINDACK_TIMEOUT = 1 s (6275 §12)
    found = check(*reg2(), hoti(outer_src=COA1), hoti(), hoti(outer_src=COA2, cookie=b"2" * 8, at=1005.0),
                  hoti(cookie=b"2" * 8, at=1006.5))
    assert hits(found, "MCOA512") == [5]


def test_hoti_seen_twice_before_the_ha_is_judged_once() -> None:
    tunnelled = hoti(outer_src=COA2, cookie=b"2" * 8, at=1005.0)
    again = dataclasses.replace(hoti(outer_src=COA2, cookie=b"2" * 8, at=1005.01), interface=1)
    found = check(*reg2(), hoti(outer_src=COA1), hoti(), tunnelled, again, brr(at=1010.0))
    assert hits(found, "MCOA512") == [5]


def _wire(packet_bytes: bytes) -> Packet:
    """Decode real bytes; time -1 lets ``check`` number it like the hand-built records."""
    mac = b"\x02\x00\x00\x00\x00\x01"
    return dataclasses.replace(decode_frame(frame(ethernet_for(mac, mac, packet_bytes))), time=-1.0)


def test_esp_null_tunnel_mode_hoti_from_the_wire_is_judged() -> None:
    # 6275 §5.2.5: the HoTI goes through the HA in an ESP tunnel; ESP-NULL leaves it readable
    def tunnelled(coa: str, cookie: bytes) -> Packet:
        inner = ipv6_packet(HOA, CN, 135, mobility_header(HomeTestInit(cookie), []))
        return _wire(ipv6_packet(coa, HA, 41, inner, esp=(0x3001, 1)))

    forwarded = _wire(ipv6_packet(HOA, CN, 135, mobility_header(HomeTestInit(b"1" * 8), [])))
    found = check(*reg2(), tunnelled(COA1, b"1" * 8), forwarded, tunnelled(COA2, b"2" * 8), brr(at=1010.0))
    assert hits(found, "MCOA512") == [5]
