"""`mcoaviz simulate`: listing, writing a capture with its truth, errors, and the scale hand-off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dissector.capture.parser import CaptureParser
from mcoaviz.cli import main


def test_list_names_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("figure8", "figure11b", "dsmipv6-nat", "nemo", "handover-storm"):
        assert any(line.startswith(name + " ") for line in out.splitlines())


def test_scenario_writes_capture_and_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fig.pcapng"
    assert main(["simulate", "figure10", "-o", str(out), "--seed", "4", "--dialect", "draft05"]) == 0
    truth = json.loads((tmp_path / "fig.truth.json").read_text())
    assert (truth["scenario"], truth["seed"], truth["dialect"]) == ("figure10", 4, "draft05")
    parser = CaptureParser()
    frames = parser.feed(out.read_bytes())
    assert len(frames) == truth["capture"]["frames"]
    names = {i.name for i in parser.interfaces.values()}
    assert {"ha-uplink", "cn-link", "mn-if1"} <= names
    assert "fig.truth.json" in capsys.readouterr().out


def test_esp_switch_wraps_ha_signalling(tmp_path: Path) -> None:
    plain, protected = tmp_path / "a.pcapng", tmp_path / "b.pcapng"
    assert main(["simulate", "deregistration", "-o", str(plain)]) == 0
    assert main(["simulate", "deregistration", "-o", str(protected), "--esp"]) == 0
    assert json.loads((tmp_path / "b.truth.json").read_text())["esp"] is True
    assert plain.read_bytes() != protected.read_bytes()


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "no-such-scenario", "-o", "x.pcapng"],
        ["simulate", "figure8"],
        ["simulate"],
        ["simulate", "scale", "-o", "x.pcapng", "--rate", "0"],
    ],
)
def test_bad_usage_is_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("mcoaviz simulate: ") and err.count("\n") == 1


def test_unwritable_output_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "figure8", "-o", str(tmp_path / "missing" / "x.pcapng")]) == 2
    assert "cannot write" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["simulate", "--all", "-o", str(blocker / "samples")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_scale_mode_calls_the_scale_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mcoaviz.simulate.scale as scale

    calls = []

    def fake(
        path: str, mobile_nodes: int, coas: int, duration: float, rate: float, seed: int, **options: object
    ) -> int:
        calls.append((path, mobile_nodes, coas, duration, rate, seed))
        return 123

    monkeypatch.setattr(scale, "write_scale_capture", fake)
    out = str(tmp_path / "big.pcapng")
    argv = [
        "simulate",
        "scale",
        "--mobile-nodes",
        "5",
        "--coas",
        "2",
        "--duration",
        "3",
        "--rate",
        "100",
        "-o",
        out,
        "--seed",
        "9",
    ]
    assert main(argv) == 0
    assert calls == [(out, 5, 2, 3.0, 100.0, 9)]


def test_bid_type_option_changes_the_option_type_on_the_wire(tmp_path: Path) -> None:
    from dissector.codepoints import Dialect
    from dissector.decode import DecodeOptions, decode_frame

    out = tmp_path / "t.pcapng"
    assert (
        main(["simulate", "deregistration", "-o", str(out), "--dialect", "draft05", "--bid-type", "40"]) == 0
    )
    assert json.loads((tmp_path / "t.truth.json").read_text())["bid_type"] == 40
    frames = CaptureParser().feed(out.read_bytes())
    options = DecodeOptions(dialect=Dialect.DRAFT05, bid_type=40)
    bids = [b for f in frames if (p := decode_frame(f, options)).mobility for b in p.mobility.bids]
    assert bids and {b.type for b in bids} == {40}
    assert main(["simulate", "deregistration", "-o", str(out), "--bid-type", "300"]) == 2
