"""The HTML report at home-agent scale: file size, build time, and how fast headless Chromium
draws it (a script, not a test; it prints figures and asserts nothing).

    python benchmarks/report.py                       # 1 M packets, 3 000 mobile nodes x 3 CoAs
    python benchmarks/report.py --capture FILE.pcapng # an existing capture
    python benchmarks/report.py --reuse               # keep benchmarks/data/report-scale.pcapng

Timings in the browser come from the page itself: ``performance.now()`` (milliseconds since the
start of navigation) when Plotly has drawn the first figure, and the time from a click on a home
address in the index to its timeline drawn. On a shared machine those wall times mostly measure
the other processes, so the renderer's main-thread CPU time up to the first figure (DevTools
``Performance.getMetrics`` ``ThreadTime``) is printed too, and the same for a page holding only
plotly.js and one small scatter plot (the floor any Plotly page pays). ``--html FILE`` measures
an existing report. Needs Debian's chromium and Playwright.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def make_capture(path: Path, nodes: int, packets: int, rate: int) -> None:
    duration = max(1, packets // rate)
    cli = "from mcoaviz.cli import main; import sys; sys.exit(main(sys.argv[1:]))"
    subprocess.run([sys.executable, "-c", cli,
                    "simulate", "scale", "--mobile-nodes", str(nodes), "--coas", "3",
                    "--duration", str(duration), "--rate", str(rate), "-o", str(path)], check=True)


BASELINE = ("<!DOCTYPE html><html><body><div id=f></div><script>{js}</script><script>"
            "Plotly.newPlot('f', [{{x: [1, 2, 3], y: [1, 3, 2]}}]).then(() => {{"
            "window.mcoavizReport = {{timings: {{first_figure_ms: performance.now()}}}};"
            "document.body.dataset.firstFigure = 'true'; }});</script></body></html>")


def baseline_page() -> Path:
    from plotly.offline import get_plotlyjs

    path = DATA / "plotly-only.html"
    path.write_text(BASELINE.format(js=get_plotlyjs()), encoding="utf-8")
    return path


def browser_figures(report: Path, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        plotly_only = baseline_page()
        for run in range(runs):
            page = browser.new_page()
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(plotly_only.as_uri())
            page.wait_for_selector("body[data-first-figure=true]", timeout=120_000)
            cpu = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}["ThreadTime"]
            first = page.evaluate("window.mcoavizReport.timings.first_figure_ms")
            print(f"plotly.js only, run {run + 1}: figure drawn {first / 1000:.2f} s after navigation start, "
                  f"main-thread CPU {cpu:.2f} s")
            page.close()
        for run in range(runs):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page.goto(report.as_uri())
            page.wait_for_selector("body[data-first-figure=true]", timeout=120_000)
            first = page.evaluate("window.mcoavizReport.timings.first_figure_ms")
            cpu = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}["ThreadTime"]
            started = time.perf_counter()
            page.click("#hoa-index tbody tr >> nth=0")
            page.wait_for_selector("body[data-detail]", timeout=120_000)
            opened = time.perf_counter() - started
            drawn = page.locator(".js-plotly-plot .main-svg").count()
            print(f"report, run {run + 1}: first figure drawn {first / 1000:.2f} s after navigation start "
                  f"(main-thread CPU until then {cpu:.2f} s); "
                  f"first home address opened and drawn in {opened:.2f} s; {drawn} plot surfaces; "
                  f"console errors: {len(errors)}")
            page.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", type=Path)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--mobile-nodes", type=int, default=3000)
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--html", type=Path, help="only measure this existing report in the browser")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs")
    DATA.mkdir(parents=True, exist_ok=True)
    if args.html:
        print(f"report {args.html}: {args.html.stat().st_size / 1e6:.2f} MB")
        browser_figures(args.html, args.runs)
        return
    capture = args.capture or DATA / "report-scale.pcapng"
    DATA.mkdir(parents=True, exist_ok=True)
    if args.capture is None and not (args.reuse and capture.exists()):
        make_capture(capture, args.mobile_nodes, args.packets, args.rate)

    from mcoaviz.pipeline import analyse
    from mcoaviz.report import build_model, write_report

    started = time.perf_counter()
    analysis = analyse(capture)
    analysed = time.perf_counter() - started
    started = time.perf_counter()
    model = build_model(analysis)
    report = write_report(analysis, DATA / "report-scale.html", model=model)
    built = time.perf_counter() - started
    print(f"capture {capture}: {analysis.capture['frames']} frames, {len(model['index']['rows'])} home "
          f"addresses, {len(analysis.bindings)} binding intervals, {len(analysis.messages)} messages")
    print(f"analysis {analysed:.1f} s; report model + HTML {built:.1f} s; "
          f"file {report.stat().st_size / 1e6:.2f} MB")
    browser_figures(report, args.runs)


if __name__ == "__main__":
    main()
