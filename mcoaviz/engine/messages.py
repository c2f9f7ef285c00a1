"""Compact message rows (the export's ``messages`` table).

The decoder engineer's ``mcoaviz.messages.message_row`` is the reference (it is what
``mcoaviz decode --json`` prints); this module uses it when present and otherwise builds the same
keys itself, so the engine never depends on a module that may not exist yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dissector.records import BindingAck, BindingUpdate, Packet


def _fallback_row(packet: Packet) -> dict[str, Any]:
    path, m = packet.path, packet.mobility
    body = m.body if m is not None else None
    seq = lifetime = status = None
    flags: tuple[str, ...] = ()
    if isinstance(body, BindingUpdate):
        seq, lifetime, flags = body.seq, body.lifetime, body.flags
    elif isinstance(body, BindingAck):
        seq, lifetime, status, flags = body.seq, body.lifetime, body.status, body.flags
    hoa = path.home_address_option or path.routing_type2
    return {
        "frame": packet.frame, "time": packet.time, "interface": packet.interface,
        "src": path.src, "dst": path.dst, "outer_src": path.outer_src, "outer_dst": path.outer_dst,
        "hoa": hoa, "type": m.type_name if m else None, "mh_type": m.mh_type if m else None,
        "seq": seq, "lifetime": lifetime, "status": status, "flags": list(flags),
        "bids": [{"bid": b.bid, "status": b.status, "coa": b.coa, "flags": list(b.flags)}
                 for b in (m.bids if m else ())],
        "options": [type(o).__name__ for o in (m.options if m else ())],
        "checksum_ok": m.checksum_ok if m else None, "malformed": packet.malformed,
    }


def _resolve() -> Callable[[Packet], dict[str, Any]]:
    try:
        from mcoaviz.messages import message_row as decoder_row
    except ModuleNotFoundError as exc:
        if exc.name != "mcoaviz.messages":
            raise
        return _fallback_row
    return decoder_row  # type: ignore[no-any-return]


def message_row(packet: Packet) -> dict[str, Any]:
    return _ROW(packet)


_ROW = _resolve()
