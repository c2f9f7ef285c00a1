"""Independent oracles: Zeek's Mobility Header checksum pair (only Zeek verifies that checksum)."""

from __future__ import annotations

from mcoaviz.pipeline import AnalysisOptions, analyse
from tests.conftest import require_shared


def _rules(name: str) -> list[tuple[int | None, str]]:
    capture = require_shared() / "zeek" / name
    return [(f["frame"], f["rule"]) for f in analyse(capture, AnalysisOptions()).findings]


def test_zeek_bad_mh_checksum_is_mcoa901() -> None:
    # Baseline__core.mobility-checksums__bad.out: Zeek's weird log has one bad_MH_checksum
    assert _rules("Traces__chksums__mip6-bad-mh-chksum.pcap") == [(1, "MCOA901")]


def test_zeek_good_mh_checksum_has_no_finding() -> None:
    assert _rules("Traces__chksums__mip6-good-mh-chksum.pcap") == []
