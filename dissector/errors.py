"""Internal decode exceptions. They never leave the dissector: decode.decode_frame turns them into
Problems (layer, frame offset, reason) and keeps whatever was read before them."""

from __future__ import annotations


class DecodeError(Exception):
    """Base of the internal decode exceptions."""

    def __init__(self, offset: int, reason: str, layer: str | None = None) -> None:
        super().__init__(reason)
        self.offset = offset  # byte offset in the frame where reading failed
        self.reason = reason
        self.layer = layer  # None: decode_frame uses the layer being walked


class Truncated(DecodeError):
    """The bytes end before a field does (snap length, or a length field pointing past the end)."""


class Malformed(DecodeError):
    """The bytes are there but violate the format so badly that the layer cannot go on."""
