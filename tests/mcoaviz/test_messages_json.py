"""message_json: the text of one `decode --json` record, byte for byte json.dumps(message_row)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

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
                assert message_json(packet, shared_areas=True) == json.dumps(message_row(packet))
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


def test_a_shared_options_area_is_written_once_and_only_for_its_own_tuple() -> None:
    """Messages whose options tuple is one and the same object (the decoder shares a known area's
    records) get the area's text from ``_AREAS``; an equal area in another tuple, or options
    changed under the same id, never gets another message's text."""
    import mcoaviz.messages as messages

    packet = bulk_bu()
    m = packet.mobility
    assert m is not None and m.options
    shared = tuple(m.options)
    first = dataclasses.replace(packet, mobility=dataclasses.replace(m, options=shared))
    messages._AREAS.clear()
    assert message_json(first) == json.dumps(message_row(first)) and not messages._AREAS  # (not asked to)
    text = message_json(first, shared_areas=True)
    assert messages._AREAS[id(shared)] == (shared, text[text.index('"bids"'):text.index(', "checksum_ok"')])
    later = dataclasses.replace(first, frame=99)
    assert message_json(later, shared_areas=True) == json.dumps(message_row(later))
    bids = [o for o in shared if isinstance(o, BindingIdentifier)]
    other = tuple(dataclasses.replace(o, bid=o.bid + 10) if o in bids else o for o in shared)
    changed = dataclasses.replace(packet, mobility=dataclasses.replace(m, options=other))
    messages._AREAS[id(other)] = (shared, text)  # a stale entry under the id: the tuple itself decides
    assert message_json(changed, shared_areas=True) == json.dumps(message_row(changed))
    assert '"bid": 11' in message_json(changed, shared_areas=True)


@pytest.mark.parametrize("dialect", list(Dialect))
def test_repeats_of_kept_frames_and_their_rereadings_write_their_own_text(dialect: Dialect) -> None:
    """`decode`'s caches (the decoder's repeats share one path, areas share one options tuple, BU/BA
    text kept per path): every sample message decoded twice, and re-read in the other dialect
    (same path, other options and flags), is written as json.dumps writes its row."""
    import mcoaviz.messages as messages
    from dissector.dialect import with_dialect

    options = DecodeOptions(dialect=dialect, repeats=True)
    other = Dialect.DRAFT05 if dialect is Dialect.RFC5648 else Dialect.RFC5648
    written = bu_ba = 0
    messages._ADDRESSING.clear()
    messages._AFTER.clear()
    for path in sorted(SAMPLES.glob("*.pcap*")):
        frames, _ = read_frames(path)
        for _ in range(2):
            for frame in frames:
                packet = decode_frame(frame, options)
                if packet.mobility is None:
                    continue
                for version in (packet, with_dialect(packet, other)):
                    assert message_json(version, shared_areas=True) == json.dumps(message_row(version))
                    written += 1
                    bu_ba += version.mobility is not None and version.mobility.mh_type in (5, 6)
    assert written > 0
    # repeats were written from kept text: one addressing text per path, one per options and values
    assert 0 < len(messages._ADDRESSING) < bu_ba and 0 < len(messages._AFTER) < bu_ba
    # the other dialect's reading shares the path's addressing but has its own options' text
    assert len(messages._AFTER) > len({id(value[0]) for value in messages._ADDRESSING.values()}) // 2


def _bu_ba(values: dict[str, Any], ack: bool, flags: tuple[str, ...]) -> Packet:
    """The bulk BU made a BU or BA without problems, with these per-frame and fixed-part values."""
    from dissector.records import BindingAck, BindingUpdate

    bu = bulk_bu()
    assert bu.mobility is not None
    body: BindingUpdate | BindingAck = (
        BindingAck(values["status"], 0, values["seq"], values["lifetime"], flags) if ack
        else BindingUpdate(values["seq"], 0, values["lifetime"], flags))  # fmt: skip
    return dataclasses.replace(
        bu, frame=values["frame"], time=values["time"], interface=values["interface"],
        mobility=dataclasses.replace(bu.mobility, body=body, checksum_ok=values["checksum_ok"],
                                     mh_type=6 if ack else 5))


def _twice_as_json_dumps(packet: Packet) -> None:
    import mcoaviz.messages as messages

    for _ in range(2):  # made, then from the kept pieces
        assert message_json(packet, shared_areas=True) == json.dumps(message_row(packet))
    assert any(value[0] is packet.path for value in messages._ADDRESSING.values())


@given(frame=st.integers(1, 2**40), time=st.floats(0, 2e9), interface=st.integers(0, 9),
       seq=st.integers(0, 0xFFFF), lifetime=st.integers(0, 0x3FFFC), status=st.integers(0, 300),
       ack=st.booleans(), flags=st.lists(st.text(max_size=2), max_size=3))
def test_bu_ba_values_through_the_kept_text_match_json_dumps(frame, time, interface, seq, lifetime, status,
                                                             ack, flags) -> None:
    """The BU/BA text made from kept pieces, with the decoder's kinds of values."""
    values = {"frame": frame, "time": time, "interface": interface, "seq": seq, "checksum_ok": True,
              "lifetime": lifetime, "status": status}
    _twice_as_json_dumps(_bu_ba(values, ack, tuple(flags)))


ODD = [None, True, False, 1.5, -0.0, float("inf"), float("-inf"), float("nan"), 2**70, -3]


@pytest.mark.parametrize("field", ["frame", "time", "interface", "seq", "checksum_ok", "lifetime", "status"])
@pytest.mark.parametrize("ack", [False, True], ids=["BU", "BA"])
def test_odd_bu_ba_values_through_the_kept_text_match_json_dumps(field: str, ack: bool) -> None:
    """Any odd value of one field (per frame: frame, time, interface, sequence number, checksum
    verdict; kept: lifetime, status) is written as json.dumps writes it."""
    for odd in ODD:
        if field == "status" and ack and odd is None:  # a BA's status_name needs a number
            continue
        values = {"frame": 9, "time": 12.25, "interface": 0, "seq": 7, "checksum_ok": True, "lifetime": 40,
                  "status": 0, field: odd}
        _twice_as_json_dumps(_bu_ba(values, ack, ("A", "H")))


def test_kept_text_is_only_for_its_own_path_and_options() -> None:
    """An entry under a path's or options tuple's id that holds another object (a stale id) is
    never used; equal paths or options in other objects get their own entries."""
    import mcoaviz.messages as messages

    packet = bulk_bu()
    m = packet.mobility
    assert m is not None
    messages._ADDRESSING.clear()
    messages._AFTER.clear()
    text = message_json(packet, shared_areas=True)
    assert len(messages._ADDRESSING) == len(messages._AFTER) == 1
    moved = dataclasses.replace(packet, path=dataclasses.replace(packet.path, src="2001:db8::99"))
    (key, value), = messages._ADDRESSING.items()
    messages._ADDRESSING[(id(moved.path), *key[1:])] = value  # a stale entry under the new path's id
    assert message_json(moved, shared_areas=True) == json.dumps(message_row(moved))
    assert '"src": "2001:db8::99"' in message_json(moved, shared_areas=True)
    bids = [o for o in m.options if isinstance(o, BindingIdentifier)]
    other = tuple(dataclasses.replace(o, bid=o.bid + 10) if o in bids else o for o in m.options)
    changed = dataclasses.replace(packet, mobility=dataclasses.replace(m, options=other))
    (key, value), = [(k, v) for k, v in messages._AFTER.items() if v[0] is m.options]
    messages._AFTER[(id(other), *key[1:])] = value
    assert message_json(changed, shared_areas=True) == json.dumps(message_row(changed))
    assert '"bid": 11' in message_json(changed, shared_areas=True)
    renamed = dataclasses.replace(packet, mobility=dataclasses.replace(m, type_name="Binding Update"))
    assert '"type": "Binding Update"' in message_json(renamed, shared_areas=True)  # same path, other name
    again = dataclasses.replace(packet, frame=7, time=2.5)
    assert message_json(again, shared_areas=True) == text.replace('"frame": 5, "time": 1005.0',
                                                                  '"frame": 7, "time": 2.5')
