"""Questions from the command line: filters on analyse / export / check / decode, --at and
--between, -t, and one-line errors. Expectations come from the sample captures' truth files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mcoaviz.cli import main
from tests.conftest import SAMPLES

FIG8 = SAMPLES / "figure8-rfc5648.pcapng"
STORM = SAMPLES / "handover-storm-rfc5648.pcapng"
VIOLATIONS = SAMPLES / "violations-rfc5648.pcapng"
HA, CN, HOA = "2001:db8:1::1", "2001:db8:c0::10", "2001:db8:1::100"


def truth(capture: Path) -> dict[str, Any]:
    return json.loads(capture.with_name(capture.name.replace(".pcapng", ".truth.json")).read_text())


@pytest.fixture(autouse=True)
def _samples_present() -> None:
    if not FIG8.exists() or not STORM.exists():
        pytest.skip("sample captures not committed")


def export(capsys: pytest.CaptureFixture[str], capture: Path, *options: str) -> dict[str, Any]:
    assert main(["export", str(capture), "--no-checker", *options]) == 0
    return json.loads(capsys.readouterr().out)


def section(out: str, title: str, next_title: str | None = None) -> list[list[str]]:
    """Data rows (split) of a text section, without headers and rules."""
    text = out.split(title, 1)[1]
    if next_title:
        text = text.split(next_title, 1)[0]
    return [line.split() for line in text.splitlines()[1:]
            if line.startswith("  ") and not line.strip().startswith(("-", "HoA", "peer"))]


# --------------------------------------------------------------------------- export


def test_export_filters_every_table(capsys: pytest.CaptureFixture[str]) -> None:
    data = export(capsys, FIG8, "--coa", "2001:db8:a2::100")
    want = [(r["node"], r["bid"]) for r in truth(FIG8)["bindings"] if r["coa"] == "2001:db8:a2::100"]
    assert sorted((b["node"], b["bid"]) for b in data["bindings"]) == sorted(want) == [(HA, 2), (CN, 2)]
    assert {r["coa"] for r in data["bul"]} == {"2001:db8:a2::100"}
    assert data["traffic"] and {t["coa"] for t in data["traffic"]} == {"2001:db8:a2::100"}
    assert data["messages"] and all(
        "2001:db8:a2::100" in {m["src"], m["dst"], m["outer_src"], m["outer_dst"],
                               *(b["coa"] for b in m["bids"])} for m in data["messages"])
    assert data["capture"]["query"] == {"coa": ["2001:db8:a2::100/128"]}
    assert data["capture"]["messages_total"] > len(data["messages"])


def test_export_node_and_bid_filters_combine(capsys: pytest.CaptureFixture[str]) -> None:
    data = export(capsys, FIG8, "--node", CN, "--bid", "1", "--bid", "3")
    want = sorted((r["bid"], r["coa"]) for r in truth(FIG8)["bindings"]
                  if r["node"] == CN and r["bid"] in (1, 3))
    assert sorted((b["bid"], b["coa"]) for b in data["bindings"]) == want and len(want) == 2
    assert {(r["peer"], r["bid"]) for r in data["bul"]} == {(CN, 1), (CN, 3)}
    assert {t["node"] for t in data["traffic"]} == {CN}


def test_export_hoa_prefix_keeps_everything_of_the_home_link(capsys: pytest.CaptureFixture[str]) -> None:
    whole = export(capsys, FIG8)
    prefixed = export(capsys, FIG8, "--hoa", "2001:db8:1::/48")
    assert prefixed["bindings"] == whole["bindings"] and prefixed["bul"] == whole["bul"]
    other = export(capsys, FIG8, "--hoa", "2001:db8:9::/48")
    assert other["bindings"] == other["bul"] == other["traffic"] == other["messages"] == []


def test_export_at_gives_the_state_with_lifetime_remaining(capsys: pytest.CaptureFixture[str]) -> None:
    rows = truth(STORM)["bindings"]
    t0 = truth(STORM)["capture"]["first_time"]
    at = (rows[3]["start"] + rows[3]["end"]) / 2  # inside the fourth interval
    data = export(capsys, STORM, "--at", f"{at - t0:.6f}")
    want = sorted((r["bid"], r["coa"]) for r in rows
                  if r["start"] <= at and (r["end"] is None or at < r["end"]))
    assert sorted((b["bid"], b["coa"]) for b in data["bindings"]) == want
    assert all(b["remaining"] == pytest.approx(b["expires"] - at, abs=1e-3) and 0 < b["remaining"] <= 400
               for b in data["bindings"])
    assert data["capture"]["query"]["at"] == pytest.approx(at, abs=1e-6)


def test_export_between_takes_iso_times(capsys: pytest.CaptureFixture[str]) -> None:
    # the storm's first frame is 2023-11-14 22:13:21.001 UTC
    data = export(capsys, STORM, "--between", "2023-11-14T22:13:30Z", "2023-11-14T22:13:35Z")
    t1, t2 = 1_700_000_010.0, 1_700_000_015.0
    want = sorted((r["node"], r["bid"], r["coa"]) for r in truth(STORM)["bindings"]
                  if r["start"] <= t2 and (r["end"] is None or r["end"] > t1))
    assert sorted((b["node"], b["bid"], b["coa"]) for b in data["bindings"]) == want
    assert data["messages"] and all(t1 <= m["time"] <= t2 for m in data["messages"])
    assert data["traffic_bins"] and all(t1 - 1 < b["second"] <= t2 for b in data["traffic_bins"])
    for row in data["traffic"]:  # recounted from the window's bins
        bins = [b for b in data["traffic_bins"] if (b["interface"], b["coa"], b["direction"]) ==
                (row["interface"], row["coa"], row["direction"])]
        assert row["packets"] == sum(b["packets"] for b in bins)


# --------------------------------------------------------------------------- analyse


def test_analyse_at_prints_the_state_and_remaining(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyse", str(STORM), "--at", "10", "--bid", "2"]) == 0
    out = capsys.readouterr().out
    assert "showing     bid 2; state at 10.000" in out
    t = truth(STORM)["capture"]["first_time"] + 10
    want = [r for r in truth(STORM)["bindings"]
            if r["bid"] == 2 and r["start"] <= t and (r["end"] is None or t < r["end"])]
    cache = section(out, "Binding caches at 10.000", "Binding update lists")
    assert [(c[1], c[2]) for c in cache] == [("2", r["coa"]) for r in want] and len(want) == 1
    assert "Traffic per care-of address" not in out and "Findings" not in out


def test_analyse_time_formats(capsys: pytest.CaptureFixture[str]) -> None:
    first = truth(STORM)["bindings"][0]
    assert main(["analyse", str(STORM), "--hoa", HOA, "--bid", "1", "-t", "utc", "--no-checker"]) == 0
    out = capsys.readouterr().out
    assert "(times below: UTC time of day)" in out
    assert section(out, "Binding caches (intervals)", "Binding update lists")[0][3] == "22:13:22.012"
    assert first["start"] == pytest.approx(1_700_000_002.0128, abs=1e-3)
    assert main(["analyse", str(STORM), "--bid", "2", "--node", HA, "-t", "d", "--no-checker"]) == 0
    rows = section(capsys.readouterr().out, "Binding caches (intervals)", "Binding update lists")
    storm = [r for r in truth(STORM)["bindings"] if r["bid"] == 2 and r["node"] == HA]
    assert [float(r[4].lstrip("+")) for r in rows[:-1]] == pytest.approx(
        [r["end"] - r["start"] for r in storm[:-1]], abs=2e-3)
    assert rows[1][3] == f"{storm[1]['start'] - storm[0]['start']:.3f}"


@pytest.mark.parametrize(("options", "message"), [
    (["--hoa", "nonsense"], "home address 'nonsense' is not an IP address or prefix"),
    (["--bid", "x"], "BID 'x' is not a number"),
    (["--at", "yesterday"], "time 'yesterday' is neither seconds"),
    (["--at", "1", "--between", "1", "2"], "--at and --between cannot be used together"),
    (["--between", "5", "2"], "the second time is before the first"),
    (["-t", "epoch"], "time format 'epoch' is not one of"),
    (["--all", "--summary"], "--all and --summary cannot be used together"),
])
def test_bad_question_is_one_line_and_exit_2(options: list[str], message: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyse", str(FIG8), *options]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mcoaviz analyse: error: ") and message in err[0]


# --------------------------------------------------------------------------- check and decode


def test_check_filters_findings_by_hoa_and_bid(capsys: pytest.CaptureFixture[str]) -> None:
    if not VIOLATIONS.exists():
        pytest.skip("violations sample not committed")
    assert main(["check", str(VIOLATIONS), "--json"]) == 1
    every = json.loads(capsys.readouterr().out)["findings"]
    main(["check", str(VIOLATIONS), "--json", "--bid", "2"])
    with_bid2 = json.loads(capsys.readouterr().out)["findings"]
    frames_with_bid2 = {f["frame"] for f in every if f["bid"] == 2}
    assert frames_with_bid2 and frames_with_bid2 <= {f["frame"] for f in with_bid2}
    assert len(with_bid2) < len(every)
    assert main(["check", str(VIOLATIONS), "--json", "--hoa", "2001:db8:77::/48"]) == 0  # nobody's
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_decode_filters_and_time_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(STORM), "--coa", "2001:db8:b2::101", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["type"] for r in records] == ["BU", "BU", "BA", "BA"]  # seen at two capture points each
    assert main(["decode", str(STORM), "--coa", "2001:db8:b2::101", "-t", "ud"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [str(r["frame"]) for r in records]
    when = datetime.fromtimestamp(records[0]["time"], UTC)
    assert lines[0].split()[1:3] == [when.strftime("%Y-%m-%d"), when.strftime("%H:%M:%S.%f")]
    assert when.strftime("%H:%M:%S") == "22:13:24"


def test_analyse_at_outside_the_capture_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    last = truth(STORM)["capture"]["last_time"] - truth(STORM)["capture"]["first_time"]
    assert main(["analyse", str(STORM), "--at", f"{last + 100:.3f}", "--no-checker"]) == 0
    out = capsys.readouterr().out
    assert "(after the last frame: what the capture implies)" in out
    cache = section(out, "Binding caches at", "Binding update lists")
    want = [r for r in truth(STORM)["bindings"] if r["end"] is None]  # open at the end: still valid
    assert sorted((c[1], c[2]) for c in cache) == sorted((str(r["bid"]), r["coa"]) for r in want)
    assert main(["analyse", str(STORM), "--at", "-5", "--no-checker"]) == 0
    out = capsys.readouterr().out
    assert "(before the first frame: nothing seen yet)" in out
    assert "Binding caches at -5.000\n  none\n" in out


def test_decode_delta_is_since_the_previous_message_shown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(STORM), "--bid", "2", "--json"]) == 0
    times = [r["time"] for r in json.loads(capsys.readouterr().out)]
    assert main(["decode", str(STORM), "--bid", "2", "-t", "delta"]) == 0
    shown = [float(line.split()[1]) for line in capsys.readouterr().out.splitlines()]
    first_frame = truth(STORM)["capture"]["first_time"]
    want = [b - a for a, b in zip([first_frame, *times], times, strict=False)]
    assert len(shown) == len(times) > 20
    assert shown == pytest.approx(want, abs=2e-6)
