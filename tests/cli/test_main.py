"""`mcoaviz` itself: --help lists every subcommand without importing it; a run imports only its own."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from mcoaviz.cli import SUBCOMMANDS, SUMMARIES, build_parser, main
from tests.conftest import SAMPLES


@pytest.mark.parametrize("module_name", SUBCOMMANDS)
def test_the_summary_table_is_each_modules_name_and_help(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert SUMMARIES[module_name] == (module.NAME, module.HELP)
    assert set(SUMMARIES) == set(SUBCOMMANDS)


def test_help_lists_every_subcommand_with_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for name, help_text in SUMMARIES.values():
        assert f"{name} {help_text}" in text


def test_parsing_one_subcommand_builds_only_its_arguments() -> None:
    parser, handlers = build_parser(["decode", "x.pcapng", "--json"])
    assert list(handlers) == ["decode"]
    args = parser.parse_args(["decode", "x.pcapng", "--json"])
    assert (args.command, args.capture, args.json) == ("decode", "x.pcapng", True)
    _, everything = build_parser()
    assert list(everything) == [name for name, _ in SUMMARIES.values()]


def test_a_run_of_decode_does_not_import_the_other_subcommands() -> None:
    capture = str(SAMPLES / "figure8-rfc5648.pcapng")
    code = (f"import sys; from mcoaviz.cli import main; main(['decode', {capture!r}]);"
            "print(sorted(m for m in sys.modules if m.startswith('mcoaviz.')), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = done.stderr.strip().splitlines()[-1]
    for other in ("analyse", "export", "report", "check", "explain", "simulate", "tui", "live"):
        assert f"'mcoaviz.cli.{other}'" not in loaded
    assert "'mcoaviz.cli.decode'" in loaded
    assert "'mcoaviz.checker'" not in loaded  # decode runs no rules: their modules stay unread
    assert "'mcoaviz.dataframes'" not in loaded
    assert "'mcoaviz.engine'" not in loaded  # nor builds the engine (~50 ms of start-up)


def test_version_and_a_subcommands_help_still_work(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("mcoaviz ")
    assert main(["decode", "--help"]) == 0
    assert "--json" in capsys.readouterr().out
    assert main(["no-such-command"]) == 2
    assert "invalid choice: 'no-such-command'" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "as_program", "frozen"), [
    (["decode", "--json"], True, True),  # the program's own run of decode: the survivors are frozen
    (["decode", "--json"], False, False),  # main(argv) from a caller that goes on: the collector is as it was
])
def test_decode_as_the_program_spares_the_final_collection(
        argv: list[str], as_program: bool, frozen: bool, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import gc

    calls: list[str] = []  # the collector's steps freeze too; what counts is the state at the end
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    full = [argv[0], str(SAMPLES / "handover-storm-rfc5648.pcapng"), *argv[1:]]
    monkeypatch.setattr(sys, "argv", ["mcoaviz", *full])
    assert (main() if as_program else main(full)) == 0
    assert calls[-1] == ("freeze" if frozen else "unfreeze")
    assert capsys.readouterr().out  # the command ran and wrote its output
