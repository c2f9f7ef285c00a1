"""message_json: the text of one `decode --json` record, byte for byte json.dumps(message_row)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions, decode_frame
from dissector.records import (
    BindingIdentifier,
    LinkLayerAddress,
    MobilityMessage,
    Packet,
    PacketPath,
    PadN,
    Problem,
    UnknownOption,
)
from mcoaviz.messages import message_json, message_row
from mcoaviz.sources import read_frames
from tests.conftest import SAMPLES
from tests.mcoaviz.test_messages import bulk_bu


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.pcap*")), ids=lambda p: p.name)
def test_every_sample_message_as_json_dumps_writes_it(path) -> None:
    frames, _ = read_frames(path)
    seen = 0
    for dialect in Dialect:
        for frame in frames:
            packet = decode_frame(frame, DecodeOptions(dialect=dialect))
            if packet.mobility is not None:
                seen += 1
                assert message_json(packet) == json.dumps(message_row(packet))
    assert seen > 0


def test_the_bulk_bu_text() -> None:
    text = message_json(bulk_bu())
    assert text.startswith('{"frame": 5, "time": 1005.0, "interface": 0, ')
    assert json.loads(text) == message_row(bulk_bu())


TEXT = st.text(max_size=12)  # any code point: json.dumps escapes them (ensure_ascii)
NUMBER = st.one_of(st.integers(-5, 70000), st.booleans(), st.none(), st.floats(allow_nan=True))


@given(
    time=st.one_of(st.floats(), st.integers(0, 2**40)),
    src=st.one_of(st.none(), TEXT),
    type_name=TEXT,
    reason=TEXT,
    coa=st.one_of(st.none(), TEXT),
    checksum_ok=st.sampled_from([True, False, None]),
    status=st.integers(0, 255),
    pad_type=st.sampled_from([1, 9]),
    odd=NUMBER,
)
def test_odd_records_still_match_json_dumps(time, src, type_name, reason, coa, checksum_ok, status,
                                            pad_type, odd) -> None:
    bu = bulk_bu()
    assert bu.mobility is not None
    options = (
        PadN(2, 4, True, type=pad_type),
        BindingIdentifier(8, 20, 3, status, 0xFF, coa, Dialect.DRAFT05, type=77),
        LinkLayerAddress(30, 3, b"\x01\x02"),
        UnknownOption(40, 200, b"\xff" * 3),
    )
    body = bu.mobility.body if status % 2 else None
    mobility = dataclasses.replace(bu.mobility, type_name=type_name, checksum_ok=checksum_ok, body=body,
                                   options=options)
    assert isinstance(mobility, MobilityMessage)
    path = dataclasses.replace(bu.path, src=src, tunnel=src, routing_type2=coa)
    assert isinstance(path, PacketPath)
    packet = Packet(bu.frame, time, bu.interface, bu.wire_length, path, mobility,
                    problems=(Problem("option:35", 3, reason, "warning" if status % 3 else "error"),
                              Problem(reason, odd, reason)))  # type: ignore[arg-type]
    assert message_json(packet) == json.dumps(message_row(packet))


def test_a_packet_without_a_mobility_header_is_refused() -> None:
    packet = Packet(1, 1.0, 0, 60, PacketPath("::1", "::2"))
    with pytest.raises(ValueError, match="frame 1 carries no Mobility Header"):
        message_json(packet)
