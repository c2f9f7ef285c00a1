"""The HTML page: one self-contained file, plotly.js embedded once, data as escaped JSON.

Safety, in three layers: capture text was made printable in ``data`` (no control or bidi
characters); the only HTML written here from data is the title, through ``html.escape``; all
data travels as JSON in a ``<script type="application/json">`` block with ``<``, ``>``, ``&``
and the JavaScript line separators escaped, so nothing in it can close the script element,
and the page's script writes it into the DOM only through ``textContent``. A
Content-Security-Policy meta tag forbids every network fetch (no CDN, fonts or images).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
from functools import cache
from importlib import resources
from typing import Any

# Scripts run only when their hash is listed (so even an injected <script> would not run);
# styles stay inline because Plotly writes style attributes and <style> elements.
CSP = ("default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
       "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'")

COMPRESS_ABOVE = 1_000_000  # per-HoA data larger than this (characters) is embedded gzipped
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                 0x2028: "\\u2028", 0x2029: "\\u2029"}


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element (cannot close it or open a comment)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).translate(_JSON_ESCAPES)


@cache
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    source = get_plotlyjs()
    if "</script" in source.lower():  # would end the inline script early; never seen in a release
        raise RuntimeError("plotly.js contains '</script' and cannot be inlined")
    return source


def csp(*scripts: str) -> str:
    """The Content-Security-Policy allowing exactly these inline scripts."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in scripts)
    return CSP.format(hashes=hashes)


def _asset(name: str) -> str:
    return resources.files("mcoaviz.report").joinpath(name).read_text(encoding="utf-8")


def details_block(details: dict[str, Any], compress_above: int = COMPRESS_ABOVE) -> str:
    """The per-HoA data: JSON as it is when small; gzip + base64 when large (the page unpacks it
    with DecompressionStream on the first opening), which keeps thousands of HoAs small."""
    text = script_json(details)
    if len(text) <= compress_above:
        return f"<script type=\"application/json\" id=\"hoa-data\" data-encoding=\"json\">{text}</script>\n"
    packed = base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)).decode("ascii")
    return (f"<script type=\"application/octet-stream\" id=\"hoa-data\" data-encoding=\"gzip+base64\">"
            f"{packed}</script>\n")


def render(model: dict[str, Any], title: str, compress_above: int = COMPRESS_ABOVE) -> str:
    """The complete HTML document for a report model (see ``mcoaviz.report.data.prepare``)."""
    page_model = {key: value for key, value in model.items() if key != "hoas"}
    code = "\n" + _asset("report.js")
    return "".join((
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{csp(plotly_js(), code)}\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        f"<title>{html.escape(title)}</title>\n<style>\n{_asset('report.css')}</style>\n</head>\n<body>\n",
        _asset("body.html"),
        f"<script type=\"application/json\" id=\"report-data\">{script_json(page_model)}</script>\n",
        details_block(model["hoas"], compress_above),
        f"<script>{plotly_js()}</script>\n",
        f"<script>{code}</script>\n",
        "</body>\n</html>\n",
    ))
