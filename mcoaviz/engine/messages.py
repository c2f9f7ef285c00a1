"""Compact message rows (the export's ``messages`` table) for the engine.

``mcoaviz.messages.message_row`` defines the row (it is also what ``mcoaviz decode --json``
prints); the engine uses exactly that function, so the shape is defined once. ``message_json``
is the same row already as JSON text (byte for byte ``json.dumps(message_row(p))``): what a
spooled analysis writes, without building the dict first.
"""

from __future__ import annotations

from mcoaviz.messages import message_json, message_row

__all__ = ["message_json", "message_row"]
