"""Binding Update sequence number arithmetic (RFC 6275 §9.5.1), shared by the engine, which judges
captured BUs, and the simulator, whose nodes accept or refuse them."""

from __future__ import annotations


def seq_newer(seq: int, last: int) -> bool:
    """Modulo 2**16, ``seq`` is newer than ``last`` when it lies within half the number space above it."""
    return 0 < (seq - last) % 65536 < 32768
