"""The HTML page: self-contained, network fetches forbidden, capture text escaped, data embedded
as JSON that cannot close its script element (and gzipped when large)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from mcoaviz.pipeline import AnalysisOptions, analyse
from mcoaviz.report import build_model, render_report, write_report
from mcoaviz.report.page import plotly_js, render, script_json
from tests.conftest import SAMPLES
from tests.report.captures import HOSTILE, rewrite


def _block(page: str, element_id: str) -> str:
    match = re.search(rf'<script type="[^"]+" id="{element_id}"[^>]*>(.*?)</script>', page, re.S)
    assert match, element_id
    return match.group(1)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """figure8 with markup, a script end tag, terminal escapes and bidi overrides in every
    interface name and description, a packet comment on every frame, and in the file name."""
    folder = tmp_path_factory.mktemp("hostile")
    path = rewrite("figure8-rfc5648.pcapng", folder / 'cap<img src=x onerror="alert(1)">.pcapng',
                   name=lambda i, n: f"{n}{HOSTILE}", comment=HOSTILE)
    return path, render_report(analyse(path))


def test_capture_text_cannot_inject_markup(hostile: tuple[Path, str]) -> None:
    _, page = hostile
    # only the page's own four script elements open and close
    assert page.count("<script") == 4 and page.lower().count("</script") == 4
    data_blocks = _block(page, "report-data") + _block(page, "hoa-data")
    assert "<" not in data_blocks and ">" not in data_blocks
    # the other two scripts are the static plotly.js and report.js; the markup outside scripts
    # holds capture text only in the escaped <title>
    assert page.count(plotly_js()) == 1 and page.count(resources.files("mcoaviz.report").joinpath(
        "report.js").read_text(encoding="utf-8")) == 1
    markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)
    for text in ("pwned", "onmouseover", "<img", "onerror"):
        assert text not in markup.replace("&lt;img src=x onerror=&quot;", "")
    assert "\x1b" not in page and "\u202e" not in page
    data = json.loads(_block(page, "report-data"))
    names = [i["name"] for i in data["capture"]["interfaces"]]
    assert names[0].startswith("ha-uplink</script><script>window.pwned=1</script><b onmouseover")
    assert "\\x1b]0;t\\x07\\u202e" in names[0]  # made printable, then carried as plain text
    assert "<title>mcoaviz report: cap&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.pcapng</title>" in page


def test_every_string_in_the_data_is_escaped_for_a_script_element() -> None:
    text = script_json({"k": "</script><!-- & \u2028 \u2029 >"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"k": "</script><!-- & \u2028 \u2029 >"}


def test_page_is_self_contained_and_forbids_fetches(tmp_path: Path) -> None:
    analysis = analyse(SAMPLES / "figure8-rfc5648.pcapng")
    out = write_report(analysis, tmp_path / "r.html")
    page = out.read_text(encoding="utf-8")
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert policy
    rules = dict(rule.strip().split(" ", 1) for rule in policy.group(1).split(";"))
    assert rules["default-src"] == rules["connect-src"] == "'none'" and "http" not in policy.group(1)
    # exactly the page's two executable scripts may run, by hash
    code = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(code) == 2
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(c.encode()).digest()).decode() + "'" for c in code}
    assert set(rules["script-src"].split()) == hashes
    assert page.count(plotly_js()) == 1  # plotly.js once, inline
    # no element loads anything: no src/href attributes outside the inline scripts
    outside_scripts = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)
    assert not re.search(r"\b(src|href)\s*=\s*[\"']?(https?:|//)", outside_scripts)
    assert "<link" not in outside_scripts and "@import" not in outside_scripts


def test_large_detail_data_is_gzipped_and_round_trips() -> None:
    analysis = analyse(SAMPLES / "handover-storm-rfc5648.pcapng", AnalysisOptions(run_checker=False))
    model = build_model(analysis)
    plain = render(model, "t")
    packed = render(model, "t", compress_above=0)
    assert 'data-encoding="json"' in plain and 'data-encoding="gzip+base64"' in packed
    assert json.loads(_block(plain, "hoa-data")) == json.loads(
        gzip.decompress(base64.b64decode(_block(packed, "hoa-data"))))
    assert json.loads(_block(plain, "hoa-data")) == json.loads(script_json(model["hoas"]))


def test_hoas_restrict_index_and_details_but_not_the_overview() -> None:
    analysis = analyse(SAMPLES / "figure8-rfc5648.pcapng", AnalysisOptions(run_checker=False))
    model = build_model(analysis, hoas=["2001:db8:1::999"])
    assert model["index"]["rows"] == [] and model["hoas"] == {}
    assert model["summary"]["bindings"] == len(analysis.bindings)
    names = [trace.get("name", "") for trace in model["figures"]["overview"]["data"]]
    assert "2001:db8:1::1 home-agent" in names
