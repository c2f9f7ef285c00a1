"""IKE header decoding on UDP 500 / 4500 (draft §9.1), against hand-built bytes and tshark's isakmp.*."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from dissector.decode import decode_frame
from dissector.fastclassify import Classifier
from tests.conftest import require_tool
from tests.dissector.capture.capture_bytes import epb, idb, shb
from tests.dissector.handbuilt import HA, MN_COA, ethernet, frame, ipv4, ipv6, udp


def ike_header(ispi: int, rspi: int, exchange: int, flags: int, message_id: int, *, next_payload: int = 33,
               body: bytes = b"") -> bytes:
    """RFC 7296 §3.1 Figure 4, written out field by field; version 2.0."""
    return struct.pack("!QQBBBBII", ispi, rspi, next_payload, 0x20, exchange, flags, message_id,
                       28 + len(body)) + body


SA_PAYLOAD = bytes([0, 0, 0, 8, 0, 0, 0, 0])  # an empty generic payload (enough for tshark)
INIT = ike_header(0x1122334455667788, 0, 34, 0x08, 0, body=SA_PAYLOAD)
AUTH_REPLY = ike_header(0x1122334455667788, 0x99AABBCCDDEEFF00, 35, 0x20, 1, next_payload=46,
                        body=SA_PAYLOAD)
FRAMES = [
    ethernet(ipv6(MN_COA, HA, 17, udp(500, 500, INIT))),
    ethernet(ipv4("192.0.2.7", "198.51.100.1", 17, udp(4500, 4500, b"\0\0\0\0" + AUTH_REPLY)), 0x0800),
]


def test_ike_sa_init_on_port_500() -> None:
    ike = decode_frame(frame(FRAMES[0])).ike
    assert ike is not None
    assert (ike.initiator_spi, ike.responder_spi) == (0x1122334455667788, 0)
    assert (ike.exchange_type, ike.message_id) == (34, 0)
    assert (ike.major_version, ike.minor_version, ike.next_payload, ike.length) == (2, 0, 33, 36)
    assert ike.initiator and not ike.response


def test_ike_after_the_non_esp_marker_on_port_4500() -> None:
    packet = decode_frame(frame(FRAMES[1]))
    assert packet.ike is not None and packet.esp is None
    assert (packet.ike.responder_spi, packet.ike.exchange_type, packet.ike.message_id) == (0x99AABBCCDDEEFF00,
                                                                                          35, 1)
    assert packet.ike.response and not packet.ike.initiator


def test_esp_in_udp_4500_is_not_ike() -> None:
    esp = struct.pack("!II", 0x1234, 7) + b"x" * 16
    raw = ethernet(ipv4("192.0.2.7", "198.51.100.1", 17, udp(4500, 4500, esp)), 0x0800)
    packet = decode_frame(frame(raw))
    assert packet.ike is None


def test_short_ike_header_is_a_problem_not_an_exception() -> None:
    packet = decode_frame(frame(ethernet(ipv6(MN_COA, HA, 17, udp(500, 500, INIT[:20])))))
    assert packet.ike is None
    assert [p.layer for p in packet.problems] == ["ike"]


def test_wrong_ike_length_is_a_warning() -> None:
    bad = INIT[:24] + struct.pack("!I", 400) + INIT[28:]
    packet = decode_frame(frame(ethernet(ipv6(MN_COA, HA, 17, udp(500, 500, bad)))))
    assert packet.ike is not None and packet.ike.length == 400
    assert [(p.layer, p.severity) for p in packet.problems] == [("ike", "warning")]


def test_fast_path_leaves_ike_to_the_slow_path() -> None:
    classifier = Classifier(frozenset({4191}))
    assert classifier.classify(1, FRAMES[0], len(FRAMES[0])) is None
    plain = ethernet(ipv6(MN_COA, HA, 17, udp(5000, 5001, b"payload")))
    assert classifier.classify(1, plain, len(plain)) is not None


@pytest.mark.tshark
def test_ike_header_agrees_with_tshark(tmp_path: Path) -> None:
    tshark = require_tool("tshark")
    data = shb() + idb("<", 1) + b"".join(epb("<", 0, n * 1_000_000, f) for n, f in enumerate(FRAMES))
    path = tmp_path / "ike.pcapng"
    path.write_bytes(data)
    out = subprocess.run(
        [tshark, "-r", str(path), "-T", "fields", "-e", "isakmp.ispi", "-e", "isakmp.rspi", "-e",
         "isakmp.exchangetype", "-e", "isakmp.messageid", "-e", "isakmp.flags", "-e", "isakmp.nextpayload",
         "-e", "isakmp.length"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert len(out) == len(FRAMES)
    for raw, line in zip(FRAMES, out, strict=True):
        ike = decode_frame(frame(raw)).ike
        assert ike is not None
        # tshark repeats isakmp.nextpayload / length for each payload: the header's is the first
        fields = (f.split(",")[0] for f in line.split("\t"))
        ispi, rspi, exchange, message_id, flags, next_payload, length = fields
        assert int(ispi, 16) == ike.initiator_spi and int(rspi, 16) == ike.responder_spi
        assert (int(exchange), int(message_id, 0), int(flags, 0)) == (ike.exchange_type, ike.message_id,
                                                                      ike.flags_byte)
        assert (int(next_payload), int(length)) == (ike.next_payload, ike.length)


@pytest.mark.tshark
def test_sample_capture_ike_agrees_with_tshark() -> None:
    """The simulator's home-link-violations sample carries IKEv2 from two CoAs (MCOA1001)."""
    from tests.conftest import SAMPLES
    from tests.oracles.decoded import decode_capture

    tshark = require_tool("tshark")
    path = SAMPLES / "home-link-violations-rfc5648.pcapng"
    ours = {p.frame: p.ike for p in decode_capture(path)[0] if p.ike is not None}
    out = subprocess.run(
        [tshark, "-r", str(path), "-Y", "isakmp", "-T", "fields", "-e", "frame.number", "-e", "isakmp.ispi",
         "-e", "isakmp.rspi", "-e", "isakmp.exchangetype", "-e", "isakmp.messageid"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    theirs = {int(f[0]): (int(f[1], 16), int(f[2], 16), int(f[3]), int(f[4], 0))
              for f in (line.split("\t") for line in out)}
    assert len(theirs) >= 2  # each IKE message is seen on the MN's link and on the HA's uplink
    assert {frame: (i.initiator_spi, i.responder_spi, i.exchange_type, i.message_id)
            for frame, i in ours.items() if i is not None} == theirs


def test_ike_port_wins_over_the_dsmipv6_port() -> None:
    """Between UDP 500 and 4191 (DSMIPv6) the datagram is IKE, as Wireshark's lower-port-first rule
    reads it: the decoder looks for IKE before the DSMIPv6 port (so a round-trip test of DSMIPv6
    draws its source ports outside IKE's)."""
    for sport, dport in ((500, 4191), (4191, 500)):
        packet = decode_frame(frame(ethernet(ipv4("192.0.2.7", "198.51.100.1", 17, udp(sport, dport, INIT)),
                                             0x0800)))
        assert packet.ike is not None and packet.ike.exchange_type == 34
        assert packet.mobility is None and packet.path.tunnel is None
