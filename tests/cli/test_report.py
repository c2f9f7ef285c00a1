"""`mcoaviz report`: writes the HTML file, --hoa selects home addresses, --udp-port reaches the
analysis, bad input is one line on stderr and exit 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mcoaviz.cli import main
from tests.conftest import SAMPLES, require_tool

FIG8 = str(SAMPLES / "figure8-rfc5648.pcapng")


def _model(page: str) -> dict:
    match = re.search(r'id="report-data">(.*?)</script>', page, re.S)
    assert match
    return json.loads(match.group(1))


def test_report_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert main(["report", FIG8, "-o", str(out)]) == 0
    model = _model(out.read_text(encoding="utf-8"))
    assert [row[0] for row in model["index"]["rows"]] == ["2001:db8:1::100"]
    assert model["summary"]["bindings"] == 6 and model["capture"]["dialect"] == "rfc5648"
    err = capsys.readouterr().err
    assert err.startswith(f"wrote {out} (") and "1 home address(es)" in err


def test_default_output_is_named_after_the_capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["report", FIG8]) == 0
    assert (tmp_path / "figure8-rfc5648.pcapng.html").stat().st_size > 1_000_000


def test_hoa_prefix_selects_and_a_miss_is_an_error(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert main(["report", FIG8, "-o", str(out), "--hoa", "2001:db8:1::/64"]) == 0
    assert len(_model(out.read_text(encoding="utf-8"))["index"]["rows"]) == 1
    capsys.readouterr()
    assert main(["report", FIG8, "-o", str(out), "--hoa", "2001:db8:2::1"]) == 2
    err = capsys.readouterr().err
    assert err == ("mcoaviz report: no home address in the capture matches 2001:db8:2::1 "
                   "(1 home address(es) seen)\n")
    assert main(["report", FIG8, "-o", str(out), "--hoa", "home"]) == 2
    assert capsys.readouterr().err == "mcoaviz report: --hoa 'home' is not an IP address or prefix\n"


def test_udp_port_reaches_the_analysis(tmp_path: Path) -> None:
    """DSMIPv6 data on UDP 4191 is counted only when 4191 is among the ports."""
    capture = str(SAMPLES / "dsmipv6-nat-rfc5648.pcapng")
    counted = {}
    for ports in (["--udp-port", "4191"], ["--udp-port", "5000"]):
        out = tmp_path / "r.html"
        assert main(["report", capture, "-o", str(out), *ports]) == 0
        rows = _model(out.read_text(encoding="utf-8"))["index"]["rows"]
        counted[ports[1]] = sum(r[7] + r[8] for r in rows)
    assert counted["4191"] > counted["5000"]


def test_unreadable_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.pcapng"
    bad.write_bytes(b"not a capture at all")
    assert main(["report", str(bad), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mcoaviz report: ") and err.count("\n") == 1
    assert main(["report", str(tmp_path / "missing.pcapng"), "-o", str(tmp_path / "r.html")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["report", FIG8, "-o", str(tmp_path / "no" / "such" / "dir.html")]) == 2
    assert capsys.readouterr().err.startswith("mcoaviz report: cannot write ")


def test_png_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    from tests.conftest import IN_CI, require_tool

    require_tool("chromium")
    if importlib.util.find_spec("kaleido") is None:
        if IN_CI:
            pytest.fail("kaleido is required in CI (scripts/test.sh installs the png extra)")
        pytest.skip("kaleido is not installed")
    folder = tmp_path / "png"
    assert main(["report", FIG8, "-o", str(tmp_path / "r.html"), "--png", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "hoa-2001_db8_1__100.png", "overview.png", "topology.png"]
    assert capsys.readouterr().err.endswith(f"wrote 3 PNG image(s) to {folder}\n")


def test_a_capture_without_frames_still_gives_a_report(tmp_path: Path) -> None:
    from mcoaviz.simulate.pcapng import InterfaceSpec, PcapngWriter

    capture = tmp_path / "empty.pcapng"
    with capture.open("wb") as out:
        PcapngWriter(out, [InterfaceSpec(name="eth0")])
    page = tmp_path / "r.html"
    assert main(["report", str(capture), "-o", str(page)]) == 0
    model = _model(page.read_text(encoding="utf-8"))
    assert model["index"]["rows"] == [] and model["summary"]["bindings"] == 0
    assert model["capture"]["frames"] == 0 and model["capture"]["interfaces"][0]["name"] == "eth0"


def test_wireshark_findings_are_in_the_report_as_in_check(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("tshark")
    capture = str(SAMPLES / "figure8-draft05.pcapng")
    assert main(["check", capture, "--json", "--wireshark"]) == 0
    expected = [f for f in json.loads(capsys.readouterr().out)["findings"] if f.get("source") == "wireshark"]
    assert expected  # draft-05 BID flags are one of Wireshark's documented limitations
    out = tmp_path / "r.html"
    assert main(["report", capture, "-o", str(out), "--wireshark"]) == 0
    groups = {g["rule"]: g for g in _model(out.read_text(encoding="utf-8"))["findings"]["groups"]}
    for rule in {f["rule"] for f in expected}:
        assert groups[rule]["count"] == sum(1 for f in expected if f["rule"] == rule)
    assert main(["report", capture, "-o", str(tmp_path / "plain.html")]) == 0
    plain_page = (tmp_path / "plain.html").read_text(encoding="utf-8")
    plain = {g["rule"] for g in _model(plain_page)["findings"]["groups"]}
    assert not plain & {f["rule"] for f in expected}
