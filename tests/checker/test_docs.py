"""``mcoaviz rules``'s table (mcoaviz/checker/docs.py ``render_text``), read column by column.

docs/rules.md, the Markdown rendering, is compared with the committed file in
tests/cli/test_rules.py; this checks the text table against registry lines read by hand.
"""

from __future__ import annotations

import re

from mcoaviz.checker.docs import render_text
from mcoaviz.checker.registry import BY_CODE, RULES


def test_header_names_the_columns() -> None:
    header = render_text().splitlines()[0]
    assert header.split() == ["code", "severity", "draft-05", "RFC", "5648", "dialects", "name:", "summary"]


def test_one_line_per_rule_with_its_severity_sections_and_dialects() -> None:
    lines = render_text().splitlines()[1:]
    assert [line.split()[0] for line in lines] == [r.code for r in RULES]
    by_code = {line.split()[0]: line for line in lines}
    # registry: MCOA106 error, RFC warning; §4.2.1 / §4.3; both dialects
    assert re.split(r"\s{2,}", by_code["MCOA106"]) == [
        "MCOA106", "error (RFC: warning)", "§4.2.1", "§4.3", "both",
        "ReservedBidFlagsSet: reserved BID flag bits set"]
    # MCOA902: no RFC section of its own ("same"); MCOA105: draft-05 only, not in the RFC ("-")
    assert re.split(r"\s{2,}", by_code["MCOA902"])[1:5] == ["warning", "6275 §11.7.3", "same", "both"]
    assert re.split(r"\s{2,}", by_code["MCOA105"])[1:5] == ["error", "§4.2.1", "-", "draft05"]


def test_a_selection_renders_only_those_rules() -> None:
    lines = render_text((BY_CODE["MCOA105"],)).splitlines()
    assert len(lines) == 2 and lines[1].startswith("MCOA105 ")
