/* mcoaviz report: builds the page from the JSON model in #report-data.
 * Text from the model reaches the DOM only through textContent (never innerHTML), and every
 * per-home-address figure is built here, from compact arrays, when that address is opened. */
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("report-data").textContent);
  const CONFIG = { responsive: true, displaylogo: false };
  const STATE_COLOURS = { "confirmed": "#2ca02c", "unconfirmed": "#ffbb78", "home": "#17becf",
                          "pre-existing": "#9e9e9e" };
  const SEV_COLOURS = { error: "#d62728", warning: "#ff7f0e", info: "#1f77b4" };
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                   "#bcbd22", "#17becf"];
  const PAGE = 200;          // index rows rendered at a time
  const LADDER_MAX = 400;    // messages drawn in a ladder
  const T_END = D.t_end;
  const HOAS = new Set(D.index.rows.map(r => r[0]));

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "number" && digits !== undefined) return v.toFixed(digits);
    return String(v);
  }
  // Plotly reads a few HTML tags in hover text; text from the data is escaped so it stays text
  function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
  function ms(v) { return v === null || v === undefined ? null : Math.round(v * 10000) / 10; }
  function statusName(s) {
    if (s === null || s === undefined) return "";
    const name = D.status_names[String(s)];
    return name ? s + " " + name : String(s);
  }

  // ------------------------------------------------------------------ summary
  function summary() {
    const c = D.capture, s = D.summary;
    document.getElementById("capture-name").textContent = c.file || "";
    const cards = document.getElementById("summary-cards");
    const items = [["frames", c.frames], ["signalling messages", c.messages],
      ["home agents", s.home_agents], ["correspondents", s.correspondents],
      ["home addresses", s.home_addresses], ["bindings", s.bindings], ["handovers", s.handovers],
      ["errors", s.findings.error, "error"], ["warnings", s.findings.warning, "warning"],
      ["info", s.findings.info],
      ["median BU→BA", s.latency_median === null ? "–" : ms(s.latency_median) + " ms"],
      ["BUs without BA", s.unanswered]];
    for (const [label, value, cls] of items) {
      const card = el("div", null, "card" + (cls ? " " + cls : ""));
      card.appendChild(el("b", fmt(value)));
      card.appendChild(el("span", label));
      cards.appendChild(card);
    }
    const facts = document.getElementById("capture-facts");
    const start = c.first_time === null ? "–" : new Date(c.first_time * 1000).toISOString();
    const rows = [["file", c.file + (c.format ? " (" + c.format + ")" : "")],
      ["interfaces", c.interfaces.map(i => i.name).join(", ") || "–"],
      ["time span", c.span === null ? "–" : c.span.toFixed(3) + " s from " + start +
        " (times below: seconds from the first frame)"],
      ["dialect", (c.dialect || "–") + " — " + c.dialect_reason],
      ...(c.pair_dialects || []).map(text => ["pair", text]),
      ["problems", c.problem_count + " decoding problem(s)" +
        (c.unattributed_packets ? ", " + c.unattributed_packets + " tunnelled packet(s) not attributed" : "")]];
    for (const [k, v] of rows) {
      const tr = el("tr");
      tr.appendChild(el("td", k));
      tr.appendChild(el("td", v));
      facts.appendChild(tr);
    }
    const problems = document.getElementById("capture-problems");
    for (const p of c.problems) problems.appendChild(el("li", p));
  }

  // ------------------------------------------------------------------ index
  let indexRows = D.index.rows.slice();
  let shown = PAGE;
  let sortColumn = 0, sortDown = false;
  function renderIndex() {
    const table = document.getElementById("hoa-index");
    const head = table.tHead, body = table.tBodies[0];
    if (!head.rows.length) {
      const tr = el("tr");
      D.index.columns.forEach((name, i) => {
        const th = el("th", name);
        th.addEventListener("click", () => {
          sortDown = sortColumn === i ? !sortDown : i > 0;
          sortColumn = i;
          renderIndex();
        });
        tr.appendChild(th);
      });
      head.appendChild(tr);
    }
    const filter = document.getElementById("index-filter").value.trim().toLowerCase();
    let rows = filter ? indexRows.filter(r => r[0].toLowerCase().includes(filter)) : indexRows;
    rows = rows.slice().sort((a, b) => {
      const x = a[sortColumn], y = b[sortColumn];
      const order = x < y ? -1 : x > y ? 1 : 0;
      return sortDown ? -order : order;
    });
    body.textContent = "";
    for (const row of rows.slice(0, shown)) {
      const tr = el("tr");
      tr.dataset.hoa = row[0];
      for (const v of row) tr.appendChild(el("td", fmt(v)));
      tr.addEventListener("click", () => openHoa(row[0]));
      body.appendChild(tr);
    }
    document.getElementById("index-count").textContent =
      Math.min(shown, rows.length) + " of " + rows.length + " shown";
    document.getElementById("index-more").hidden = rows.length <= shown;
  }

  // ------------------------------------------------------------------ one home address
  function laneLabel(d, lane) {
    const [node, bid, role] = lane;
    return role + " " + d.a[node] + " · " + (bid === null ? "regular" : "BID " + bid);
  }

  function timelineFigure(hoa, d) {
    const labels = d.lanes.map(l => laneLabel(d, l));
    const traces = [];
    const byFrame = {};
    for (const m of d.msgs) byFrame[m[6]] = m;
    // the message that started a binding (its BA, or the BU when no BA was asked for)
    const cause = frame => {
      const m = byFrame[frame];
      if (!m) return "";
      return "<br>started by " + m[1] + " seq " + fmt(m[4]) +
        (m[5] !== null && m[5] !== undefined ? ", status " + esc(statusName(m[5])) : "");
    };
    for (const state of Object.keys(STATE_COLOURS)) {
      const bars = d.bars.filter(b => b[4] === state);
      if (!bars.length) continue;
      traces.push({
        type: "bar", orientation: "h", name: state, legendgroup: "bindings",
        y: bars.map(b => labels[b[0]]), base: bars.map(b => b[1]),
        x: bars.map(b => Math.max((b[2] === null ? T_END : b[2]) - b[1], 0.05)),
        marker: { color: STATE_COLOURS[state], line: { width: 1, color: "#333" } },
        text: bars.map(b => d.a[b[3]]), textposition: "inside", insidetextanchor: "middle",
        hovertext: bars.map(b => "CoA " + d.a[b[3]] + "<br>" + fmt(b[1], 3) + " → " +
          (b[2] === null ? "valid at capture end" : fmt(b[2], 3) + " (" + b[8] + ")") +
          "<br>lifetime " + fmt(b[5]) + " s, " + state + cause(b[6]) + "<br>frames " + fmt(b[6]) + " → " +
          fmt(b[7])),
        hoverinfo: "text", xaxis: "x", yaxis: "y",
      });
    }
    // signalling markers on the lanes they concern
    const laneOf = {};
    d.lanes.forEach((l, i) => { laneOf[l[0] + "/" + l[1]] = i; });
    const firstLane = {};
    d.lanes.forEach((l, i) => { if (!(l[0] in firstLane)) firstLane[l[0]] = i; });
    const kinds = { BU: ["triangle-right", "#37474f"], BA: ["triangle-left", "#1565c0"],
                    BRR: ["star", "#6a1b9a"], "de-registration": ["x", "#b71c1c"] };
    const markers = {};
    for (const m of d.msgs) {
      const [t, kind, src, dst, seq, status, frame, bids, lifetime, peer] = m;
      if (!(kind in kinds)) continue;
      const name = kind === "BU" && lifetime === 0 ? "de-registration" : kind;
      const bidList = bids ? bids.split(",").map(Number) : [null];
      for (const bid of bidList) {
        let lane = laneOf[peer + "/" + bid];
        if (lane === undefined) lane = firstLane[peer];
        if (lane === undefined) continue;
        (markers[name] = markers[name] || []).push([t, labels[lane], kind + " seq " + fmt(seq) +
          (bids ? " BID " + bids : "") + (lifetime !== null && lifetime !== undefined ? " lifetime " + lifetime + " s" : "") +
          (status !== null && status !== undefined ? "<br>status " + statusName(status) : "") + "<br>frame " + frame +
          " at " + fmt(t, 3) + " s"]);
      }
    }
    for (const b of d.bars) {
      if (b[8] === "expired") (markers.expiry = markers.expiry || []).push([b[2], labels[b[0]],
        "expired at " + fmt(b[2], 3) + " s (CoA " + d.a[b[3]] + ")"]);
    }
    kinds.expiry = ["hourglass", "#795548"];
    for (const [name, points] of Object.entries(markers)) {
      traces.push({ type: "scatter", mode: "markers", name: name, legendgroup: "signalling",
        x: points.map(p => p[0]), y: points.map(p => p[1]), hovertext: points.map(p => p[2]),
        hoverinfo: "text", marker: { symbol: kinds[name][0], color: kinds[name][1], size: 10 },
        xaxis: "x", yaxis: "y" });
    }
    const findingLabel = "findings";
    if (d.findings.length) {
      const f = d.findings.filter(x => x[0] !== null);
      traces.push({ type: "scatter", mode: "markers", name: "findings", x: f.map(x => x[0]),
        y: f.map(() => findingLabel), hovertext: f.map(x => x[1] + " " + x[2] + " frame " + fmt(x[3]) + "<br>" + esc(x[4])),
        hoverinfo: "text", marker: { symbol: "diamond", size: 11, color: f.map(x => SEV_COLOURS[x[1]] || "#000") },
        xaxis: "x", yaxis: "y" });
    }
    // per-CoA traffic (rates per bucket) on the same time axis
    // one colour per CoA, solid to the MN and dotted from it; one legend entry per CoA
    const w = D.traffic_bucket;
    const colourOf = {};
    for (const [coa, dir, first, packets, bytes] of d.traffic) {
      const fresh = !(coa in colourOf);
      if (fresh) colourOf[coa] = PALETTE[Object.keys(colourOf).length % PALETTE.length];
      const xs = packets.map((_, i) => (first + i + 0.5) * w);
      const name = d.a[coa] + " " + dir;
      const line = { shape: "hv", dash: dir === "to-mn" ? "solid" : "dot", color: colourOf[coa] };
      traces.push({ type: "scatter", mode: "lines", line: line, name: d.a[coa], legendgroup: "coa-" + coa,
        legendgrouptitle: fresh && !traces.some(t => t.legendgroup && t.legendgroup.startsWith("coa-"))
          ? { text: "traffic per CoA (solid: to MN, dotted: from MN)" } : undefined,
        showlegend: fresh, x: xs, y: packets.map(p => p / w), xaxis: "x", yaxis: "y2",
        hovertemplate: "%{y:.2f} packets/s<extra>" + name + "</extra>" });
      traces.push({ type: "scatter", mode: "lines", line: line, name: name, legendgroup: "coa-" + coa,
        showlegend: false, x: xs, y: bytes.map(b => b / w),
        xaxis: "x", yaxis: "y3", hovertemplate: "%{y:.0f} bytes/s<extra>" + name + "</extra>" });
    }
    const categories = (d.findings.length ? [findingLabel] : []).concat(labels.slice().reverse());
    const height = Math.max(420, 220 + 34 * categories.length + 260);
    const layout = {
      barmode: "overlay", height: height, hovermode: "closest", template: "plotly_white",
      margin: { l: 260, r: 20, t: 30, b: 40 },
      xaxis: { title: { text: "seconds from the first frame" }, range: [0, Math.max(T_END, 1)], anchor: "y3" },
      yaxis: { domain: [0.45, 1], type: "category", categoryorder: "array", categoryarray: categories.slice().reverse(),
               automargin: true },
      yaxis2: { domain: [0.24, 0.42], title: { text: "packets/s" } },
      yaxis3: { domain: [0, 0.2], title: { text: "bytes/s" } },
      legend: { groupclick: "toggleitem" },
    };
    return { data: traces, layout: layout };
  }

  function ladderFigure(d) {
    const msgs = d.msgs.slice(0, LADDER_MAX);
    const peers = new Set(msgs.map(m => m[9]).filter(p => p !== null));
    const lanes = [];
    for (const m of msgs) for (const a of [m[2], m[3]]) if (a !== null && !peers.has(a) && !lanes.includes(a)) lanes.push(a);
    for (const p of peers) if (!lanes.includes(p)) lanes.push(p);
    const xOf = {};
    lanes.forEach((a, i) => { xOf[a] = i; });
    const annotations = [];
    const labelsX = [], labelsY = [], labelsText = [], hover = [];
    msgs.forEach((m, row) => {
      const [t, kind, src, dst, seq, status, frame, bids, lifetime] = m;
      if (src === null || dst === null || xOf[src] === xOf[dst]) return;
      annotations.push({ x: xOf[dst], y: row, ax: xOf[src], ay: row, xref: "x", yref: "y", axref: "x", ayref: "y",
        showarrow: true, arrowhead: 2, arrowsize: 1.2, arrowwidth: 1.4, arrowcolor: kind === "BA" ? "#1565c0" : "#37474f",
        text: "" });
      labelsX.push((xOf[src] + xOf[dst]) / 2);
      labelsY.push(row - 0.28);
      labelsText.push(kind + " " + fmt(seq) + (bids ? " [" + bids + "]" : "") +
        (status !== null && status !== undefined ? " " + status : "") + (lifetime === 0 ? " lt 0" : ""));
      hover.push("frame " + frame + " at " + fmt(t, 3) + " s<br>" + d.a[src] + " → " + d.a[dst] +
        (status !== null && status !== undefined ? "<br>status " + statusName(status) : ""));
    });
    const rows = msgs.length;
    const data = [{ type: "scatter", mode: "text", x: labelsX, y: labelsY, text: labelsText, hovertext: hover,
      hoverinfo: "text", textfont: { size: 11 }, showlegend: false }];
    for (let i = 0; i < lanes.length; i++) {
      data.push({ type: "scatter", mode: "lines", x: [i, i], y: [-1, rows], line: { color: "#bbb", width: 1 },
        hoverinfo: "skip", showlegend: false });
    }
    const layout = { height: Math.min(12000, 120 + 30 * rows), template: "plotly_white", annotations: annotations,
      margin: { l: 80, r: 20, t: 60, b: 20 }, hovermode: "closest",
      xaxis: { side: "top", tickmode: "array", tickvals: lanes.map((_, i) => i), ticktext: lanes.map(a => d.a[a]),
               range: [-0.5, lanes.length - 0.5], zeroline: false, showgrid: false },
      yaxis: { autorange: "reversed", tickmode: "array", tickvals: msgs.map((_, i) => i),
               ticktext: msgs.map(m => fmt(m[0], 3)), zeroline: false, showgrid: false, title: { text: "s" } } };
    return { data: data, layout: layout };
  }

  function latencyFigure(d) {
    // lat rows: [BU index in msgs, BID, CoA, latency s | null, outcome | null, attempts, since first | null]
    const byCoa = {};
    for (const l of d.lat) {
      const coa = l[2] === null ? "–" : d.a[l[2]];
      (byCoa[coa] = byCoa[coa] || []).push(l);
    }
    const bu = r => d.msgs[r[0]];
    const data = [];
    const many = Object.keys(byCoa).length > 6;  // then one trace for all CoAs (the hover names each)
    const groups = many ? { "all CoAs": d.lat } : byCoa;
    for (const [coa, rows] of Object.entries(groups)) {
      const answered = rows.filter(r => r[3] !== null);
      data.push({ type: "scatter", mode: many ? "markers" : "markers+lines", name: "BU→BA " + coa,
        x: answered.map(r => bu(r)[0]),
        y: answered.map(r => ms(r[3])), hovertext: answered.map(r => fmt(d.a[r[2]]) + " BID " + fmt(r[1]) + " seq " + bu(r)[4] + ": " +
          ms(r[3]) + " ms after BU frame " + bu(r)[6] + (r[5] > 1 ? "<br>attempt " + r[5] + ", " + ms(r[6]) +
          " ms since the first" : "")), hoverinfo: "text" });
      const lost = rows.filter(r => r[3] === null);
      if (lost.length) data.push({ type: "scatter", mode: "markers", name: "no BA " + coa, x: lost.map(r => bu(r)[0]),
        y: lost.map(() => 0), marker: { symbol: "x", size: 10, color: "#b71c1c" },
        hovertext: lost.map(r => "BID " + fmt(r[1]) + " seq " + bu(r)[4] + " frame " + bu(r)[6] + ": no BA (" + r[4] + ")"),
        hoverinfo: "text" });
    }
    const withGap = d.gaps.filter(g => g[6] !== null);
    data.push({ type: "scatter", mode: "markers", name: "silent after change", xaxis: "x", yaxis: "y2",
      x: withGap.map(g => g[0]), y: withGap.map(g => ms(g[6])), marker: { symbol: "triangle-up", size: 10 },
      hovertext: withGap.map(g => g[2] + " " + fmt(d.a[g[3]]) + " → " + fmt(d.a[g[4]]) + ": first data after " +
        ms(g[6]) + " ms" + (g[8] ? " (±" + g[8] + " s)" : "")), hoverinfo: "text" });
    const before = d.gaps.filter(g => g[5] !== null);
    data.push({ type: "scatter", mode: "markers", name: "silent before change", xaxis: "x", yaxis: "y2",
      x: before.map(g => g[0]), y: before.map(g => ms(g[5])), marker: { symbol: "triangle-down", size: 10 },
      hovertext: before.map(g => g[2] + " old CoA " + fmt(d.a[g[3]]) + ": last data " + ms(g[5]) + " ms before" +
        (g[8] ? " (±" + g[8] + " s)" : "")), hoverinfo: "text" });
    const layout = { height: 460, template: "plotly_white", hovermode: "closest", margin: { l: 70, r: 20, t: 20, b: 40 },
      xaxis: { title: { text: "seconds from the first frame" }, range: [0, Math.max(T_END, 1)], anchor: "y2" },
      yaxis: { domain: [0.55, 1], title: { text: "BU→BA (ms)" }, rangemode: "tozero" },
      yaxis2: { domain: [0, 0.45], title: { text: "data gap (ms)" }, rangemode: "tozero" } };
    return { data: data, layout: layout };
  }

  function gapTable(d) {
    const table = document.getElementById("gap-table");
    table.tHead.textContent = "";
    table.tBodies[0].textContent = "";
    const head = el("tr");
    for (const h of ["time (s)", "lane", "change", "old CoA", "new CoA", "silent before (ms)",
                     "silent after (ms)", "interruption (ms)", "precision (s)"]) head.appendChild(el("th", h));
    table.tHead.appendChild(head);
    for (const g of d.gaps) {
      const tr = el("tr");
      const cells = [fmt(g[0], 3), laneLabel(d, d.lanes[g[1]]), g[2], fmt(d.a[g[3]]), fmt(d.a[g[4]]),
                     fmt(ms(g[5])), fmt(ms(g[6])), fmt(ms(g[7])), fmt(g[8])];
      cells.forEach((c, i) => tr.appendChild(el("td", c, i > 0 && i < 5 ? "text" : undefined)));
      table.tBodies[0].appendChild(tr);
    }
  }

  // Per-HoA data: plain JSON in small reports; in large ones gzip + base64, unpacked once, on the
  // first opening, with the browser's DecompressionStream (no network involved).
  let details = null;
  function loadDetails() {
    if (details) return details;
    const node = document.getElementById("hoa-data");
    if (node.dataset.encoding !== "gzip+base64") {
      details = Promise.resolve(JSON.parse(node.textContent));
      return details;
    }
    const bytes = Uint8Array.from(atob(node.textContent.trim()), c => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    details = new Response(stream).text().then(JSON.parse);
    return details;
  }

  let current = null;
  async function openHoa(hoa, zoomTo) {
    if (!HOAS.has(hoa)) return false;
    const d = (await loadDetails())[hoa];
    const section = document.getElementById("detail-section");
    section.hidden = false;
    document.getElementById("detail-hoa").textContent = hoa;
    document.getElementById("detail-note").textContent = d.bars.length + " binding interval(s), " +
      d.msgs.length + " signalling message(s)" + (d.msgs.length > LADDER_MAX ? " (ladder: first " + LADDER_MAX + ")" : "") +
      ", " + d.findings_total + " finding(s)" +
      (d.findings_total > d.findings.length ? " (timeline: first " + d.findings.length + ")" : "") + ".";
    for (const tr of document.querySelectorAll("#hoa-index tbody tr")) tr.classList.toggle("selected", tr.dataset.hoa === hoa);
    if (current !== hoa) {
      const t = timelineFigure(hoa, d), l = ladderFigure(d), lat = latencyFigure(d);
      await Promise.all([Plotly.react("timeline", t.data, t.layout, CONFIG),
                         Plotly.react("ladder", l.data, l.layout, CONFIG),
                         Plotly.react("latency", lat.data, lat.layout, CONFIG)]);
      gapTable(d);
      document.getElementById("explain-text").textContent = (d.explain || []).join("\n");
      current = hoa;
    }
    if (zoomTo !== undefined && zoomTo !== null) {
      await Plotly.relayout("timeline", { "xaxis.range": [Math.max(0, zoomTo - 5), zoomTo + 5] });
    }
    if (location.hash !== "#hoa=" + encodeURIComponent(hoa)) history.replaceState(null, "", "#hoa=" + encodeURIComponent(hoa));
    section.scrollIntoView();
    document.body.dataset.detail = hoa;
    return true;
  }

  // ------------------------------------------------------------------ findings
  function findings() {
    const table = document.getElementById("findings-table");
    const head = el("tr");
    for (const h of ["severity", "rule", "draft-05 §", "RFC 5648 §", "count", "frames", "first at (s)", "HoA", "message"])
      head.appendChild(el("th", h));
    table.tHead.appendChild(head);
    for (const g of D.findings.groups) {
      const tr = el("tr");
      const cells = [[g.severity, "sev-" + g.severity], [g.rule], [fmt(g.section)], [fmt(g.rfc_section)], [g.count],
        [g.frames.join(", ") + (g.count > g.frames.length ? " …" : ""), "text"], [fmt(g.time, 3)], [fmt(g.hoa)],
        [g.message, "text"]];
      for (const [v, cls] of cells) tr.appendChild(el("td", v, cls));
      tr.addEventListener("click", () => zoomToFinding(g));
      table.tBodies[0].appendChild(tr);
    }
    if (!D.findings.groups.length) {
      const tr = el("tr");
      tr.appendChild(el("td", "no findings"));
      table.tBodies[0].appendChild(tr);
    }
  }
  function zoomToFinding(g) {
    if (g.hoa && HOAS.has(g.hoa)) { openHoa(g.hoa, g.time); return; }
    if (g.time !== null) {
      Plotly.relayout("overview", { "xaxis.range": [Math.max(0, g.time - 5), g.time + 5] });
      document.getElementById("overview-section").scrollIntoView();
    }
  }

  // ------------------------------------------------------------------ start
  summary();
  const figs = D.figures;
  const timings = {};
  // performance.now() counts from the start of navigation: this is "first figure drawn" as a user sees it
  Plotly.newPlot("overview", figs.overview.data, figs.overview.layout, CONFIG).then(() => {
    timings.first_figure_ms = performance.now();
    document.body.dataset.firstFigure = "true";
  });
  window.mcoavizReport = { openHoa: openHoa, ready: false, timings: timings };
  // the rest after the overview has been painted: the first figure does not wait for it
  setTimeout(() => {
    renderIndex();
    document.getElementById("index-filter").addEventListener("input", () => { shown = PAGE; renderIndex(); });
    document.getElementById("index-more").addEventListener("click", () => { shown += PAGE; renderIndex(); });
    findings();
    Plotly.newPlot("topology", figs.topology.data, figs.topology.layout, CONFIG);
    const m = /^#hoa=(.*)$/.exec(location.hash);
    if (m) openHoa(decodeURIComponent(m[1]));
    window.mcoavizReport.ready = true;
    document.body.dataset.ready = "true";
  }, 0);
})();
