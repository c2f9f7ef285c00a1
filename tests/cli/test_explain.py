"""`mcoaviz explain`: every step of one home address's bindings, with frames, rule and I-n.

Frames were read with tshark from sample-captures/first-registration-without-coa-rfc5648.pcapng:
CoT to CoA 2 at frame 78 (cn-link), BU to the CN at 85, its BA at 87; the bulk BU to the HA at
frame 1, its BA at 6."""

from __future__ import annotations

import json

import pytest

from mcoaviz.cli import main
from tests.conftest import SAMPLES

FIRST = str(SAMPLES / "first-registration-without-coa-rfc5648.pcapng")
HOA = "2001:db8:1::100"


def test_the_first_registration_is_explained_step_by_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", FIRST, "--hoa", HOA, "--bid", "2"]) == 0
    out = capsys.readouterr().out
    assert "2001:db8:1::100 BID 2 at 2001:db8:1::1 (home-agent)" in out
    assert "2001:db8:1::100 BID 2 at 2001:db8:c0::10 (correspondent)" in out
    cn = out.split("(correspondent)")[1]
    assert "[87]" in cn and "started" in cn and "(BU frame 85, BA frame 87)" in cn
    flat = " ".join(cn.split())
    assert "CoT for BID 2 at frame 78" in flat and "(I-6)" in flat and "RFC §5.1" in flat
    assert "BID 1" not in out  # --bid 2 only


def test_json_lists_the_steps(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", FIRST, "--hoa", HOA, "--json"]) == 0
    stories = json.loads(capsys.readouterr().out)["bindings"]
    assert [(s["node"], s["bid"]) for s in stories] == [
        ("2001:db8:1::1", 1), ("2001:db8:1::1", 2), ("2001:db8:c0::10", 2)]
    cn = stories[2]["steps"]
    assert [(s["action"], s["frame"], s["bu_frame"], s["ba_frame"], s["coa"]) for s in cn] == [
        ("started", 87, 85, 87, "2001:db8:a2::100")]


def test_an_unknown_home_address_lists_what_exists(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", FIRST, "--hoa", "2001:db8:1::200"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mcoaviz explain: error: no binding of 2001:db8:1::200")
    assert "home addresses with bindings: 2001:db8:1::100 (BIDs 1, 2)" in err


def test_an_unknown_bid_is_refused_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", FIRST, "--hoa", HOA, "--bid", "7"]) == 2
    assert "BID 7" in capsys.readouterr().err


def test_a_bad_address_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", FIRST, "--hoa", "not-an-address"]) == 2
    assert "not an IP address" in capsys.readouterr().err


def test_expiry_and_its_rule(capsys: pytest.CaptureFixture[str]) -> None:
    # refresh-expiry: BID 3 is not refreshed and expires; when, the simulator's truth says
    capture = SAMPLES / "refresh-expiry-rfc5648.pcapng"
    truth = json.loads(capture.with_name("refresh-expiry-rfc5648.truth.json").read_text())
    end = next(b["end"] for b in truth["bindings"] if b["bid"] == 3) - truth["capture"]["first_time"]
    assert main(["explain", str(capture), "--hoa", HOA, "--bid", "3"]) == 0
    flat = " ".join(capsys.readouterr().out.split())
    assert f"[-] {end:.3f} expired CoA 2001:db8:a3::100" in flat and "I-29" in flat
