"""Colour on a terminal through Rich, plain when piped, --no-color and NO_COLOR respected; the
coloured text is the plain text plus styles; `mcoaviz --version`."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from mcoaviz import __version__
from mcoaviz.cli import main
from mcoaviz.cli.terminal import Styled, Writer, table, wants_colour
from tests.conftest import SAMPLES

STORM = SAMPLES / "handover-storm-rfc5648.pcapng"
VIOLATIONS = SAMPLES / "violations-rfc5648.pcapng"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def no_colour_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return monkeypatch


def test_colour_only_on_a_terminal_and_never_with_no_color(no_colour_env: pytest.MonkeyPatch) -> None:
    assert wants_colour(Tty()) is True
    assert wants_colour(io.StringIO()) is False  # piped
    assert wants_colour(Tty(), no_color=True) is False
    no_colour_env.setenv("NO_COLOR", "1")
    assert wants_colour(Tty()) is False
    no_colour_env.setenv("FORCE_COLOR", "1")
    assert wants_colour(io.StringIO()) is False  # NO_COLOR wins
    no_colour_env.delenv("NO_COLOR")
    assert wants_colour(io.StringIO()) is True
    no_colour_env.setenv("NO_COLOR", "")  # empty: not set, as no-color.org says
    assert wants_colour(io.StringIO()) is True


def test_writer_styles_spans_and_keeps_the_text() -> None:
    rows = table(("reason", "n"), [(Styled("expired", "expired"), 3), (Styled("valid at end", "valid"), 12)])
    plain, coloured = io.StringIO(), Tty()
    for out, colour in ((plain, False), (coloured, True)):
        Writer(out, colour).lines(rows)
    assert "\x1b" not in plain.getvalue()
    assert ANSI.sub("", coloured.getvalue()) == plain.getvalue()
    assert "\x1b[33mexpired\x1b[0m" in coloured.getvalue()
    assert "\x1b[32mvalid at end\x1b[0m" in coloured.getvalue()
    assert plain.getvalue().splitlines() == ["  reason         n", "  ------------  --", "  expired        3",
                                             "  valid at end  12"]


def test_analyse_colours_headers_and_states_only_when_asked(
    capsys: pytest.CaptureFixture[str], no_colour_env: pytest.MonkeyPatch,
) -> None:
    if not STORM.exists():
        pytest.skip("sample captures not committed")
    main(["analyse", str(STORM)])
    plain = capsys.readouterr().out
    assert "\x1b" not in plain  # captured stdout is not a terminal
    no_colour_env.setenv("FORCE_COLOR", "1")
    main(["analyse", str(STORM)])
    coloured = capsys.readouterr().out
    assert "\x1b[1;36mBinding caches (intervals)\x1b[0m" in coloured
    assert "\x1b[34mreplaced\x1b[0m" in coloured and "\x1b[32mvalid at end\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == plain
    main(["analyse", str(STORM), "--no-color"])
    assert capsys.readouterr().out == plain
    no_colour_env.setenv("NO_COLOR", "yes")
    main(["analyse", str(STORM)])
    assert capsys.readouterr().out == plain


def test_check_colours_severities(
    capsys: pytest.CaptureFixture[str], no_colour_env: pytest.MonkeyPatch,
) -> None:
    if not VIOLATIONS.exists():
        pytest.skip("sample captures not committed")
    main(["check", str(VIOLATIONS)])
    plain = capsys.readouterr().out
    no_colour_env.setenv("FORCE_COLOR", "1")
    main(["check", str(VIOLATIONS)])
    coloured = capsys.readouterr().out
    assert "\x1b[1;31merror\x1b[0m" in coloured and "\x1b[33mwarning\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == plain


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"mcoaviz {__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_version_matches_the_package_metadata() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert __version__ == pyproject["project"]["version"]


def test_capture_text_is_neutralised_in_colour_and_plain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_colour_env: pytest.MonkeyPatch,
) -> None:
    from mcoaviz.simulate.pcapng import InterfaceSpec, PcapngWriter
    from tests.test_pipeline import T0, _tunnel_to_mn

    path = tmp_path / "evil.pcapng"
    with path.open("wb") as out:
        writer = PcapngWriter(out, [InterfaceSpec("if\x1b]0;pwned\x07[bold]x\u202e")])
        writer.write(0, int(T0 * 1e9), _tunnel_to_mn("2001:db8:1::100"))
    for env in ("", "1"):
        no_colour_env.setenv("FORCE_COLOR", env)
        assert main(["analyse", str(path)]) == 0
        out = capsys.readouterr().out
        assert "if\\x1b]0;pwned\\x07[bold]x\\u202e" in out
        assert "\x07" not in out and "\u202e" not in out and "\x1b]" not in out
