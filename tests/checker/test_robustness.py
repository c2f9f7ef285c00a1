"""Property: whatever decoded records arrive, the engine + checker produce findings, never raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissector.codepoints import Dialect
from dissector.records import Packet
from tests.checker.builders import (
    CN,
    COA1,
    COA2,
    HA,
    HOA,
    V4COA,
    ba,
    bid,
    brr,
    bu,
    check,
    cot,
    coti,
    data,
    nd,
)

bids = st.builds(
    bid,
    st.integers(0, 6),
    st.sampled_from([None, COA1, COA2, V4COA, HOA]),
    status=st.sampled_from([0, 4, 5, 128, 133, 135, 164, 165, 166, 167, 168]),
    flags=st.integers(0, 255),
    length=st.sampled_from([None, 4, 6, 8, 20]),
    dialect=st.sampled_from([Dialect.RFC5648, Dialect.DRAFT05]),
)
options = st.lists(bids, max_size=3)
peers = st.sampled_from([HA, CN])


@st.composite
def packets(draw: st.DrawFn) -> Packet:
    kind = draw(st.sampled_from(["bu", "ba", "brr", "coti", "cot", "nd", "data"]))
    opts = draw(options)
    seq = draw(st.integers(0, 65535))
    if kind == "bu":
        return bu(seq, *opts, lifetime=draw(st.sampled_from([0, 8, 400])), dst=draw(peers),
                  flags=draw(st.sampled_from(["AH", "A", "H", ""])), o_header=draw(st.booleans()),
                  src=draw(st.sampled_from([COA1, COA2, HOA])),
                  checksum_ok=draw(st.sampled_from([True, False, None])))
    if kind == "ba":
        return ba(seq, *opts, status=draw(st.sampled_from([0, 1, 4, 5, 135, 165, 166, 168])),
                  lifetime=draw(st.sampled_from([0, 400, 800])), src=draw(peers))
    if kind == "brr":
        return brr(*opts, src=draw(peers))
    if kind == "coti":
        return coti(*opts)
    if kind == "cot":
        return cot(*opts)
    if kind == "nd":
        return nd(draw(st.sampled_from([135, 136])), HOA)
    return data(src=HOA, dst=CN, outer_src=draw(st.sampled_from([COA1, COA2])), outer_dst=HA, tunnel="ip6ip6")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(packets(), min_size=1, max_size=12), st.sampled_from([Dialect.RFC5648, Dialect.DRAFT05]))
def test_any_record_sequence_gives_findings_not_exceptions(sequence: list[Packet], dialect: Dialect) -> None:
    for finding in check(*sequence, dialect=dialect):
        assert finding.severity in ("error", "warning", "info")
        assert finding.frame is None or 1 <= finding.frame <= len(sequence)
        assert finding.message.endswith(".")
