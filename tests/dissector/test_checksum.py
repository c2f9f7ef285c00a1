"""The one Internet checksum (RFC 1071) of the decoder and the builders."""

from __future__ import annotations

import dissector.encode
import dissector.mobility
from dissector.checksum import inet_checksum, ipv6_pseudo_header


def test_rfc_1071_example() -> None:
    # RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to 0xddf2 (end-around carry); the checksum is ~.
    assert inet_checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0xFFFF - 0xDDF2


def test_odd_length_is_padded_with_zero() -> None:
    assert inet_checksum(b"\x12") == inet_checksum(b"\x12\x00") == 0xFFFF - 0x1200


def test_decoder_and_builders_use_the_same_function() -> None:
    assert dissector.encode.inet_checksum is inet_checksum
    assert dissector.mobility.inet_checksum is inet_checksum


def test_ipv6_pseudo_header_layout() -> None:
    header = ipv6_pseudo_header("2001:db8::1", "2001:db8::2", 24, 135)
    assert len(header) == 40 and header[32:] == bytes((0, 0, 0, 24, 0, 0, 0, 135))
