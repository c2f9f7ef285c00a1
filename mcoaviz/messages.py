"""One Mobility Header message as a plain dict: the `mcoaviz decode --json` record and the export
`messages` table row (docs/architecture.md). A pure function of the Packet."""

from __future__ import annotations

import dataclasses
import functools
import json
import json.encoder
from collections.abc import Callable
from typing import Any

from dissector.codepoints import BE_STATUS_NAMES, Dialect, ba_status_name, option_name
from dissector.records import (
    BindingAck,
    BindingError,
    BindingIdentifier,
    BindingRefreshRequest,
    BindingUpdate,
    HomeTest,
    HomeTestInit,
    MobilityMessage,
    MobilityOption,
    Packet,
    PadN,
    Problem,
)


def home_address(packet: Packet) -> str | None:
    """The MN's home address as this message shows it.

    Home Address option, else type 2 routing header, else the BE's field; without those the MN is
    at home (or the HoA travels as the inner source of a tunnel / DSMIPv6 packet), so the HoA is
    the source of what the MN sends (BU, HoTI) and the destination of what it receives.
    """
    path = packet.path
    if path.home_address_option:
        return path.home_address_option
    if path.routing_type2:
        return path.routing_type2
    m = packet.mobility
    body = m.body if m is not None else None
    if isinstance(body, BindingError):
        return body.home_address
    if isinstance(body, (BindingUpdate, HomeTestInit)):
        return path.src
    if isinstance(body, (BindingAck, HomeTest, BindingRefreshRequest)):
        return path.dst
    return None


def message_dialect(packet: Packet) -> Dialect:
    m = packet.mobility
    bids = m.bids if m is not None else ()
    return bids[0].dialect if bids else Dialect.RFC5648


def status_name(packet: Packet) -> str | None:
    body = packet.mobility.body if packet.mobility is not None else None
    if isinstance(body, BindingAck):
        return ba_status_name(body.status, message_dialect(packet))
    if isinstance(body, BindingError):
        return BE_STATUS_NAMES.get(body.status, f"Unknown ({body.status})")
    return None


def bid_row(option: BindingIdentifier) -> dict[str, Any]:
    return {
        "bid": option.bid,
        "status": option.status,
        "status_name": ba_status_name(option.status, option.dialect) if option.status else None,
        "coa": option.coa,
        "flags": list(option.flags),
        "flags_byte": option.flags_byte,
    }


def option_row(option: MobilityOption) -> dict[str, Any]:
    """type, name, offset and the typed fields (bytes as hex)."""
    name = "Binding Identifier" if isinstance(option, BindingIdentifier) else option_name(option.type, -1)
    row: dict[str, Any] = {"type": option.type, "name": name}
    kind: type = type(option)
    for item, convert in _fields(kind):
        value = getattr(option, item)
        if convert:
            if isinstance(value, bytes):
                value = value.hex()
            elif isinstance(value, Dialect):
                value = _DIALECT_VALUES[value]  # Enum.value is a slow descriptor in 3.11
        row[item] = value
    return row


@functools.cache
def _fields(kind: type) -> tuple[tuple[str, bool], ...]:
    """(name, may need converting) per field: only a field typed bytes or Dialect (or untyped)
    can hold one, so the others skip the two isinstance tests of every option of every message."""
    return tuple((f.name, not isinstance(f.type, str) or any(t in f.type for t in _CONVERTED))
                 for f in dataclasses.fields(kind) if f.name != "type")


_CONVERTED = ("bytes", "Dialect", "Any", "object")
_DIALECT_VALUES = {dialect: dialect.value for dialect in Dialect}


def message_row(packet: Packet) -> dict[str, Any]:
    """The JSON record of one Mobility Header message (packet.mobility must be set)."""
    m = packet.mobility
    if m is None:
        raise ValueError(f"frame {packet.frame} carries no Mobility Header")
    body = m.body
    seq = lifetime = status = None
    flags: list[str] = []
    if isinstance(body, (BindingUpdate, BindingAck)):
        seq, lifetime, flags = body.seq, body.lifetime, list(body.flags)
    if isinstance(body, (BindingAck, BindingError)):
        status = body.status
    path = packet.path
    return {
        "frame": packet.frame,
        "time": packet.time,
        "interface": packet.interface,
        "src": path.src,
        "dst": path.dst,
        "outer_src": path.outer_src,
        "outer_dst": path.outer_dst,
        "tunnel": path.tunnel,
        "hoa": home_address(packet),
        "home_address_option": path.home_address_option,
        "routing_type2": path.routing_type2,
        "type": m.type_name,
        "mh_type": m.mh_type,
        "seq": seq,
        "lifetime": lifetime,
        "status": status,
        "status_name": status_name(packet),
        "flags": flags,
        "bids": [bid_row(b) for b in m.bids],
        "options": [option_row(o) for o in m.options],
        "checksum_ok": m.checksum_ok,
        "malformed": packet.malformed,
        "problems": [dataclasses.asdict(p) for p in packet.problems],
    }


# --------------------------------------------------------------------------- the JSON text

_quote = json.encoder.encode_basestring_ascii  # what json.dumps uses for str (ensure_ascii)
_NAN, _INF = float("nan"), float("inf")


def _json(value: Any) -> str:
    """``json.dumps(value)`` for the scalars of a row (anything else goes to json.dumps)."""
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is float and value == value and value not in (_INF, -_INF):
        return float.__repr__(value)
    return json.dumps(value)


def _letters(letters: tuple[str, ...]) -> str:
    return "[" + ", ".join(map(_quote, letters)) + "]" if letters else "[]"


# Integer fields below are formatted directly (f"{n}" is json.dumps's text for an int): the
# decoder fills them from struct unpacks and byte indexing, never with a bool; a str or None
# field, a float or a bool goes through _json.


def _bid_json(option: BindingIdentifier) -> str:
    status = option.status
    name = _quote(ba_status_name(status, option.dialect)) if status else "null"
    coa = option.coa
    return (f'{{"bid": {option.bid}, "status": {status}, "status_name": {name}, '
            f'"coa": {"null" if coa is None else _quote(coa)}, '
            f'"flags": {_letters(option.flags) if option.flags_byte else "[]"}, '  # no bit, no letter
            f'"flags_byte": {option.flags_byte}}}')


def _bid_option_json(option: BindingIdentifier) -> str:
    coa = option.coa
    return (f'{{"type": {option.type}, "name": "Binding Identifier", "offset": {option.offset}, '
            f'"length": {option.length}, "bid": {option.bid}, "status": {option.status}, '
            f'"flags_byte": {option.flags_byte}, "coa": {"null" if coa is None else _quote(coa)}, '
            f'"dialect": "{_DIALECT_VALUES[option.dialect]}"}}')


def _padn_json(option: PadN) -> str:
    if option.type != 1:  # not a PadN the decoder made: its name would differ
        return json.dumps(option_row(option))
    return (f'{{"type": 1, "name": "PadN", "offset": {option.offset}, "length": {option.length}, '
            f'"nonzero_padding": {"true" if option.nonzero_padding else "false"}}}')


_OPTION_JSON: dict[type, Callable[[Any], str]] = {BindingIdentifier: _bid_option_json, PadN: _padn_json}


def _option_json(option: MobilityOption) -> str:
    encode = _OPTION_JSON.get(type(option))
    return json.dumps(option_row(option)) if encode is None else encode(option)


def _problem_json(problem: Problem) -> str:
    return (f'{{"layer": {_json(problem.layer)}, "offset": {_json(problem.offset)}, '
            f'"reason": {_json(problem.reason)}, "severity": {_json(problem.severity)}}}')


# options tuple's id -> (the tuple, its '"bids": [...], "options": [...]' text). Messages whose options
# area the decoder saw before share one tuple of records (dissector.options.walk_options): a home
# agent's BAs a few, each mobile node's refresh BUs theirs, so the text is made once per area. The
# tuple is kept with its text, so its id cannot be reused while the entry lives. Emptied when full.
_AREAS: dict[int, tuple[tuple[MobilityOption, ...], str]] = {}
# asked only when _AFTER misses, and then rarely answering (5 of 6 618 look-ups at 1 M packets)
AREA_CACHE_LIMIT = 1 << 10


def _area_json(m: MobilityMessage, keep: bool) -> str:
    """The "bids" and "options" members of a message's JSON: a function of its options alone
    (``keep``: looked up in and added to ``_AREAS``)."""
    options = m.options
    if keep:
        known = _AREAS.get(id(options))
        if known is not None and known[0] is options:
            return known[1]
    bids = ", ".join(map(_bid_json, m.bids)) if m.bids else ""
    text = f'"bids": [{bids}], "options": [{", ".join(map(_option_json, options)) if options else ""}]'
    if not keep:
        return text
    if len(_AREAS) >= AREA_CACHE_LIMIT:
        _AREAS.clear()
    _AREAS[id(options)] = (options, text)
    return text


def _text(value: str | None) -> str:
    """A str-or-None field (addresses, names) as json.dumps writes it."""
    return "null" if value is None else _quote(value)


def message_json(packet: Packet, shared_areas: bool = False) -> str:
    """``json.dumps(message_row(packet))``, byte for byte, without building the row: the text
    ``mcoaviz decode --json`` writes per message (tests/mcoaviz/test_messages_json.py holds
    it to json.dumps on every sample capture and on odd records). ``shared_areas``: keep the
    options' text per shared options tuple (``_AREAS``, up to ~10 MB; `decode` keeps nothing else)."""
    m = packet.mobility
    if m is None:
        raise ValueError(f"frame {packet.frame} carries no Mobility Header")
    body = m.body
    if shared_areas and isinstance(body, (BindingUpdate, BindingAck)) and not packet.problems:
        return _bu_ba_json(packet, m, body)
    seq = lifetime = status = "null"
    flags = "[]"
    if isinstance(body, (BindingUpdate, BindingAck)):
        seq, lifetime, flags = _json(body.seq), _json(body.lifetime), _letters(body.flags)
    if isinstance(body, (BindingAck, BindingError)):
        status = _json(body.status)
    problems = ", ".join(map(_problem_json, packet.problems)) if packet.problems else ""
    after = _after_seq(packet, lifetime, status, flags, _area_json(m, shared_areas))
    return (f'{_frame_head(packet)}{_addressing(packet, m)}{seq}{after}{_json(m.checksum_ok)}, '
            f'"malformed": {"true" if packet.problems and packet.malformed else "false"}, '
            f'"problems": [{problems}]}}')


def _frame_head(packet: Packet) -> str:
    """The JSON text from the opening brace to the interface: what differs per frame."""
    time = packet.time
    return (f'{{"frame": {_json(packet.frame)}, '
            f'"time": {float.__repr__(time) if type(time) is float and time - time == 0 else _json(time)}, '
            f'"interface": {_json(packet.interface)}, ')


def _addressing(packet: Packet, m: MobilityMessage) -> str:
    """The JSON text from "src" to the MH type, up to the sequence number's value."""
    path = packet.path
    return (f'"src": {_text(path.src)}, "dst": {_text(path.dst)}, '
            f'"outer_src": {_text(path.outer_src)}, "outer_dst": {_text(path.outer_dst)}, '
            f'"tunnel": {_text(path.tunnel)}, "hoa": {_text(home_address(packet))}, '
            f'"home_address_option": {_text(path.home_address_option)}, '
            f'"routing_type2": {_text(path.routing_type2)}, "type": {_text(m.type_name)}, '
            f'"mh_type": {_json(m.mh_type)}, "seq": ')


def _after_seq(packet: Packet, lifetime: str, status: str, flags: str, area: str) -> str:
    """The JSON text from after the sequence number to the checksum verdict's value."""
    return (f', "lifetime": {lifetime}, "status": {status}, "status_name": {_text(status_name(packet))}, '
            f'"flags": {flags}, {area}, "checksum_ok": ')


# The text of a BU/BA without problems, in two pieces kept apart from what differs per frame (its
# number, time, interface, sequence number and checksum verdict): from "src" to "seq" (the
# addressing: the same for every message with the same path object, which the decoder's repeats
# of a frame share, dissector.decode) and from "lifetime" to "checksum_ok" (the same for every
# message with the same options tuple and fixed-part values: each node's refresh BUs, the home
# agent's BAs for many nodes at once). Each kept with the objects whose ids key it, so an id cannot
# be reused while its entry lives. Emptied when full.
# _ADDRESSING: (id of the path, type name, MH type, body type) -> (path, text)
_ADDRESSING: dict[tuple[Any, ...], tuple[Any, str]] = {}
# _AFTER: (id of the options, lifetime, status, flags) -> (options, text)
_AFTER: dict[tuple[Any, ...], tuple[Any, str]] = {}
TEXT_CACHE_LIMIT = 1 << 13  # entries of each: a home agent's nodes x 2 (BU and BA), as the decoder keeps


def _bu_ba_json(packet: Packet, m: MobilityMessage, body: BindingUpdate | BindingAck) -> str:
    path, options = packet.path, m.options
    key: tuple[Any, ...] = (id(path), m.type_name, m.mh_type, type(body))
    known = _ADDRESSING.get(key)
    if known is None or known[0] is not path:
        if len(_ADDRESSING) >= TEXT_CACHE_LIMIT:
            _ADDRESSING.clear()
        known = _ADDRESSING[key] = (path, _addressing(packet, m))
    addressing = known[1]
    status = body.status if isinstance(body, BindingAck) else None
    lifetime, flags = body.lifetime, body.flags
    # ints (as the decoder makes them) key the text: 0, False and 0.0 are one key but not one text
    kept = type(lifetime) is int and (status is None or type(status) is int)
    key = (id(options), lifetime, status, flags)
    known = _AFTER.get(key) if kept else None
    if known is None or known[0] is not options:
        known = (options, _after_seq(packet, _json(lifetime), _json(status), _letters(flags),
                                     _area_json(m, True)))
        if kept:
            if len(_AFTER) >= TEXT_CACHE_LIMIT:
                _AFTER.clear()
            _AFTER[key] = known
    frame, time, interface, seq = packet.frame, packet.time, packet.interface, body.seq
    if type(frame) is int and type(time) is float and time - time == 0 and type(interface) is int \
            and type(seq) is int and m.checksum_ok is True:  # the usual values, formatted directly
        return (f'{{"frame": {frame}, "time": {float.__repr__(time)}, "interface": {interface}, '
                f'{addressing}{seq}{known[1]}true, "malformed": false, "problems": []}}')
    return (f'{_frame_head(packet)}{addressing}{_json(seq)}{known[1]}'
            f'{_json(m.checksum_ok)}, "malformed": false, "problems": []}}')
