"""Compact message rows (the export's ``messages`` table) for the engine.

``mcoaviz.messages.message_row`` defines the row (it is also what ``mcoaviz decode --json``
prints); the engine uses exactly that function, so the shape is defined once.
"""

from __future__ import annotations

from mcoaviz.messages import message_row

__all__ = ["message_row"]
