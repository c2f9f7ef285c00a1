"""Findings about data the fast path counted get their frames from a second look at the file
(mcoaviz/dataframes.py). Frames below were read with tshark: the five datagrams with a Home
Address option from CoA 1 to the CN are frames 97, 109, 119, 127 and 131 at mn-if1."""

from __future__ import annotations

import shutil
from pathlib import Path

from mcoaviz.pipeline import AnalysisOptions, analyse
from tests.conftest import SAMPLES


def test_route_optimised_run_carries_its_first_and_last_frame() -> None:
    analysis = analyse(SAMPLES / "ro-without-cn-binding-rfc5648.pcapng", AnalysisOptions())
    found = [f for f in analysis.findings if f["rule"] == "MCOA608"]
    assert [(f["frame"], f["first_frame"], f["last_frame"], f["count"]) for f in found] == [(97, 97, 131, 5)]
    assert found[0]["message"].endswith("Seen 5 times until frame 131.")


def test_without_the_fast_path_the_frames_are_the_same(tmp_path: Path) -> None:
    capture = shutil.copy(SAMPLES / "ro-without-cn-binding-draft05.pcapng", tmp_path / "c.pcapng")
    slow = analyse(capture, AnalysisOptions(fast_path=False))
    fast = analyse(capture, AnalysisOptions())
    pick = [[(f["frame"], f["last_frame"], f["count"]) for f in a.findings if f["rule"] == "MCOA608"]
            for a in (slow, fast)]
    assert pick == [[(97, 131, 5)], [(97, 131, 5)]]
