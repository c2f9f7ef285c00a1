"""The progress bar: shown on a terminal, same analysis as without it."""

from __future__ import annotations

import io

from mcoaviz.cli.progress import analyse_with_progress
from mcoaviz.pipeline import AnalysisOptions, analyse
from tests.conftest import SAMPLES


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_on_a_terminal_and_the_same_result() -> None:
    capture = str(SAMPLES / "handover-storm-rfc5648.pcapng")
    options = AnalysisOptions(run_checker=False)
    screen = Terminal()
    shown = analyse_with_progress(capture, options, screen)
    plain = analyse(capture, options)
    assert "analysing" in screen.getvalue()
    assert shown.bindings == plain.bindings and shown.traffic == plain.traffic
    assert shown.capture == plain.capture


def test_no_bar_when_not_a_terminal() -> None:
    screen = io.StringIO()
    analysis = analyse_with_progress(str(SAMPLES / "figure8-rfc5648.pcapng"), AnalysisOptions(), screen)
    assert screen.getvalue() == "" and len(analysis.bindings) == 6
