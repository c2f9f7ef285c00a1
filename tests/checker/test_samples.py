"""Acceptance: the sample captures against their truth files.

* a clean sample (no ``violations`` in its truth file) gives no error-level finding;
* a violations sample gives a finding for every violation its truth file lists, at that frame,
  with the rule and draft section the truth names, and no other error-level finding.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcoaviz.checker.registry import BY_CODE
from mcoaviz.pipeline import AnalysisOptions, analyse
from tests.conftest import SAMPLES

CAPTURES = sorted(SAMPLES.glob("*.pcapng"))


def _truth(capture: Path) -> dict:
    path = capture.with_name(capture.name.removesuffix(".pcapng") + ".truth.json")
    return json.loads(path.read_text()) if path.exists() else {}


def _sections(text: str) -> set[str]:
    return {part.replace("§", "").strip() for part in text.split(",")}


def test_the_violations_samples_exist() -> None:
    names = {c.name for c in CAPTURES}
    assert {"violations-rfc5648.pcapng", "violations-draft05.pcapng"} <= names


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_sample_findings_match_truth(capture: Path) -> None:
    truth = _truth(capture)
    findings = analyse(capture, AnalysisOptions()).findings
    listed = {(v["frame"], v.get("rule")) for v in truth.get("violations", [])}
    for v in truth.get("violations", []):
        found = [f for f in findings if f["frame"] == v["frame"] and f["rule"] == v.get("rule")]
        assert found, f"{capture.name}: no {v.get('rule')} at frame {v['frame']} ({v['description']})"
        rule = BY_CODE[v["rule"]]
        assert _sections(v["section"]) & (_sections(rule.section) | _sections(rule.rfc_section or "")), v
    unexpected = [(f["frame"], f["rule"], f["message"]) for f in findings
                  if f["severity"] == "error" and (f["frame"], f["rule"]) not in listed]
    assert unexpected == [], f"{capture.name}: error-level findings not in the truth file"
