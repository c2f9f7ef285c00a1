"""The progress bar: drawn from the pipeline's position on a terminal only, never with --quiet;
the same analysis with or without it."""

from __future__ import annotations

import argparse
import io
from types import SimpleNamespace

import pytest
from rich.console import Console

from mcoaviz.cli import progress
from mcoaviz.cli.progress import MIN_BYTES, ProgressBar, analyse_with_progress, wanted
from mcoaviz.pipeline import AnalysisOptions, analyse
from tests.conftest import SAMPLES


def test_drawn_with_packets_and_bytes_from_the_pipeline() -> None:
    out = io.StringIO()
    bar = ProgressBar(Console(file=out, force_terminal=True, width=120))
    pipeline = SimpleNamespace(name="/tmp/[big].pcapng", position=MIN_BYTES, packets_so_far=123456)
    bar.start(pipeline, 2 * MIN_BYTES)
    bar.stop()
    text = out.getvalue()
    assert "123,456 packets" in text
    assert "33.6/67.1 MB" in text
    assert "[big].pcapng" in text


def test_small_files_get_no_bar() -> None:
    out = io.StringIO()
    bar = ProgressBar(Console(file=out, force_terminal=True))
    bar.start(SimpleNamespace(name="x", position=0, packets_so_far=0), MIN_BYTES - 1)
    bar.stop()
    assert out.getvalue() == ""


@pytest.mark.parametrize(("quiet", "tty", "expected"), [(False, True, True), (True, True, False),
                                                         (False, False, False)])
def test_wanted_only_on_a_terminal_without_quiet(quiet: bool, tty: bool, expected: bool,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress.sys, "stderr", SimpleNamespace(isatty=lambda: tty))
    assert wanted(argparse.Namespace(quiet=quiet)) is expected


@pytest.mark.parametrize("command", ["analyse", "export", "check", "decode"])
def test_every_reading_command_takes_quiet(command: str) -> None:
    from mcoaviz.cli import build_parser

    parser, _ = build_parser()
    args = parser.parse_args([command, "x.pcapng", "--quiet"])
    assert args.quiet is True


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
