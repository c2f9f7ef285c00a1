"""RFC 6275 §9.5.1 sequence number comparison, modulo 2**16."""

from __future__ import annotations

import pytest

from dissector.sequence import seq_newer


@pytest.mark.parametrize(("seq", "last", "newer"), [
    (6, 5, True), (5, 5, False), (4, 5, False),
    (0, 65535, True),            # wraps around
    (32767 + 5, 5, True),        # the farthest number still newer
    (32768 + 5, 5, False),       # half the space away: older
    (65535, 0, False),
])
def test_newer_within_half_the_space_above(seq: int, last: int, newer: bool) -> None:
    assert seq_newer(seq, last) is newer
