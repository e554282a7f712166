"""The report's interactive views, drawn in the browser by plotly.js (shipped with the plotly
Python package, written beside the page or into it: the page needs no network).

Each view is a JSON specification in the page, rendered when it scrolls into view (a page of
many embeddings would otherwise hold more WebGL contexts than a browser grants):

- a 3-D scatter of an embedding's PCA projection, coloured by stratum, source, label or gating
  argmax (a switch), each point's text, source, label, stratum and expert on hover;
- a sweep explorer: a heatmap of any metric over any two swept settings, the other settings
  pooled or fixed, each cell the mean over its runs with the spread over seeds.
"""
import json

import numpy as np

SCATTER_POINTS = 5000          # points per embedding at most (a seeded random subset past it)
SUBSAMPLE_SEED = 0
TEXT_CHARS = 100               # hover text per point

# Qualitative palette (matplotlib's tab10, then tab20's light shades).
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
           "#dbdb8d", "#9edae5"]


def plotly_js():
    """(plotly.js source, version) from the plotly package, or None when it is not installed."""
    try:
        import plotly
        from plotly.offline import get_plotlyjs
    except ImportError:
        return None
    return get_plotlyjs(), plotly.__version__


def subsample(count, limit=SCATTER_POINTS, seed=SUBSAMPLE_SEED):
    """Rows shown: all of them, or a random subset of `limit` (seeded), in row order."""
    if count <= limit:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=limit, replace=False))


def hover_text(text):
    """A point's text for the hover label: one line, truncated, markup characters escaped
    (plotly reads a few HTML tags in labels)."""
    t = " ".join(str(text).split())
    if len(t) > TEXT_CHARS:
        t = t[: TEXT_CHARS - 1] + "…"
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def discrete_scale(count):
    """A stepwise colour scale: code k (0..count-1) gets palette colour k."""
    count = max(count, 1)
    scale = []
    for k in range(count):
        colour = PALETTE[k % len(PALETTE)]
        scale += [[k / count, colour], [(k + 1) / count, colour]]
    return scale


def colouring_style(name, codes, names):
    """Marker settings for one colouring: the colours and a colour bar naming the categories."""
    count = len(names)
    ticks = list(range(count)) if count <= 30 else list(range(0, count, max(1, count // 30)))
    return {"marker.color": [list(map(int, codes))], "marker.colorscale": [discrete_scale(count)],
            "marker.cmin": -0.5, "marker.cmax": count - 0.5,
            "marker.colorbar.tickvals": [ticks], "marker.colorbar.ticktext": [[str(names[t]) for t in ticks]],
            "marker.colorbar.title.text": name}


def scatter_spec(points, colourings, rows, texts, sources, labels, strata, experts, title):
    """The 3-D scatter of `points` [N, 3] restricted to `rows`. `colourings` is a list of
    (name, codes [N], category names), the first shown first; the per-point lists give the hover."""
    pts = np.asarray(points, dtype=np.float64)[rows]
    custom = [[int(r), hover_text(texts[r]) if texts is not None else "",
               str(sources[r]) if sources is not None else "-", str(labels[r]) if labels is not None else "-",
               str(strata[r]) if strata is not None else "-", str(experts[r]) if experts is not None else "-"]
              for r in rows]
    styles = [(name, colouring_style(name, np.asarray(codes)[rows], names)) for name, codes, names in colourings]
    first = styles[0][1]
    marker = {"size": 3, "opacity": 0.85, "color": first["marker.color"][0], "colorscale": first["marker.colorscale"][0],
              "cmin": first["marker.cmin"], "cmax": first["marker.cmax"], "showscale": True,
              "colorbar": {"tickvals": first["marker.colorbar.tickvals"][0],
                           "ticktext": first["marker.colorbar.ticktext"][0],
                           "title": {"text": first["marker.colorbar.title.text"]}, "len": 0.8}}
    trace = {"type": "scatter3d", "mode": "markers", "x": _rounded(pts[:, 0]), "y": _rounded(pts[:, 1]),
             "z": _rounded(pts[:, 2]), "customdata": custom, "marker": marker, "name": "points",
             "hovertemplate": "%{customdata[1]}<br>source %{customdata[2]} · label %{customdata[3]}<br>"
                              "stratum %{customdata[4]} · expert %{customdata[5]} · row %{customdata[0]}<extra></extra>"}
    buttons = [{"label": f"colour: {name}", "method": "restyle", "args": [style]} for name, style in styles]
    layout = {"title": {"text": title, "font": {"size": 14}}, "height": 620, "margin": {"l": 0, "r": 0, "t": 40, "b": 0},
              "scene": {"xaxis": {"title": {"text": "PC1"}}, "yaxis": {"title": {"text": "PC2"}},
                        "zaxis": {"title": {"text": "PC3"}}},
              "updatemenus": [{"type": "dropdown", "buttons": buttons, "x": 0.0, "y": 1.0, "xanchor": "left",
                               "yanchor": "top", "showactive": True}]}
    return {"data": [trace], "layout": layout}


def _rounded(values):
    """Coordinates as JSON numbers with five significant digits (the page stays small)."""
    return [float(f"{v:.5g}") if np.isfinite(v) else None for v in values]


def sweep_spec(runs, axes, metrics, seed_key="seed"):
    """The sweep explorer's data: for each run (rows of the runs table), the index of its value on
    every axis and its value of every metric. `axes`: (column, label, [values in order]);
    `metrics`: (column, label). The browser pools the cells."""
    out_axes = []
    for key, label, values in axes:
        index = {json.dumps(_jsonable(v)): i for i, v in enumerate(values)}
        codes = [index.get(json.dumps(_jsonable(v)), -1) for v in runs[key]]
        out_axes.append({"key": key, "label": label, "values": [_label(v) for v in values], "codes": codes})
    out_metrics = []
    for key, label in metrics:
        vals = np.asarray(runs[key], dtype=np.float64)
        out_metrics.append({"key": key, "label": label,
                            "values": [float(f"{v:.6g}") if np.isfinite(v) else None for v in vals]})
    seeds = [json.dumps(_jsonable(v)) for v in runs[seed_key]] if seed_key in runs else [""] * len(runs)
    return {"axes": out_axes, "metrics": out_metrics, "seeds": seeds, "runs": [str(r) for r in runs["run"]]}


def _jsonable(v):
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def _label(v):
    v = _jsonable(v)
    if isinstance(v, list):
        return ",".join(_label(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def spec_script(ident, spec):
    """A specification as a JSON data block ("</" escaped so no text closes the script element)."""
    text = json.dumps(spec, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{ident}">{text}</script>'


# Renders the views when they come into view; keeps at most MAX_LIVE 3-D scenes alive.
SCRIPT = r"""
(function () {
  "use strict";
  var MAX_LIVE = 6, live = [];
  function spec(id) { return JSON.parse(document.getElementById(id).textContent); }
  function fail(div, why) { div.textContent = why; div.className += " missing"; }
  function renderScatter(div) {
    var s = spec(div.getAttribute("data-spec"));
    Plotly.newPlot(div, s.data, s.layout, {responsive: true, displaylogo: false});
    live.push(div);
    while (live.length > MAX_LIVE) {
      var old = live.shift();
      Plotly.purge(old);
      old.removeAttribute("data-rendered");
    }
  }
  function option(select, value, text) {
    var o = document.createElement("option");
    o.value = value; o.textContent = text; select.appendChild(o);
  }
  function labelled(parent, text, select) {
    var l = document.createElement("label");
    l.textContent = text + " ";
    l.appendChild(select); parent.appendChild(l);
  }
  function fmt(v, digits) { return v === null || !isFinite(v) ? "-" : Number(v).toPrecision(digits); }
  // Mean of each (x, y) cell over its runs, and the spread over seeds: the pooled standard
  // deviation of runs that differ in the seed alone (NaN where no cell has two seeds).
  function cells(d, xa, ya, m, filters) {
    var nx = d.axes[xa].values.length, ny = ya < 0 ? 1 : d.axes[ya].values.length, grid = [], i, j;
    for (j = 0; j < ny; j++) { grid.push([]); for (i = 0; i < nx; i++) grid[j].push({vals: [], groups: {}}); }
    var metric = d.metrics[m].values;
    for (var r = 0; r < d.runs.length; r++) {
      var v = metric[r], ok = v !== null, key = [];
      for (var a = 0; a < d.axes.length && ok; a++) {
        var c = d.axes[a].codes[r];
        if (c < 0 || (filters[a] >= 0 && c !== filters[a])) ok = false;
        if (a !== xa && a !== ya && d.axes[a].key !== "seed") key.push(c);
      }
      if (!ok) continue;
      var cell = grid[ya < 0 ? 0 : d.axes[ya].codes[r]][d.axes[xa].codes[r]];
      cell.vals.push(v);
      (cell.groups[key.join(",")] = cell.groups[key.join(",")] || []).push(v);
    }
    return grid.map(function (row) { return row.map(function (cell) {
      var n = cell.vals.length, mean = n ? cell.vals.reduce(function (s, v) { return s + v; }, 0) / n : null;
      var ss = 0, dof = 0, configs = 0;
      Object.keys(cell.groups).forEach(function (k) {
        var g = cell.groups[k], gm = g.reduce(function (s, v) { return s + v; }, 0) / g.length;
        configs++;
        if (g.length > 1) { g.forEach(function (v) { ss += (v - gm) * (v - gm); }); dof += g.length - 1; }
      });
      return {mean: mean, sd: dof ? Math.sqrt(ss / dof) : null, n: n, configs: configs};
    }); });
  }
  function renderExplorer(root) {
    var d = spec(root.getAttribute("data-spec"));
    var controls = root.querySelector(".controls"), plot = root.querySelector(".plot-area");
    var xs = document.createElement("select"), ys = document.createElement("select"),
        ms = document.createElement("select"), filters = [];
    d.axes.forEach(function (a, i) { option(xs, i, a.label); option(ys, i, a.label); });
    option(ys, -1, "(none)");
    d.metrics.forEach(function (m, i) { option(ms, i, m.label); });
    xs.value = root.getAttribute("data-x"); ys.value = root.getAttribute("data-y");
    labelled(controls, "metric", ms); labelled(controls, "x", xs); labelled(controls, "y", ys);
    var fixed = document.createElement("div"); fixed.className = "fixed"; controls.appendChild(fixed);
    d.axes.forEach(function (a, i) {
      var s = document.createElement("select");
      option(s, -1, "all (pooled)");
      a.values.forEach(function (v, k) { option(s, k, v); });
      s.setAttribute("data-axis", i);
      filters.push(s);
      labelled(fixed, a.label, s);
    });
    function draw() {
      var xa = +xs.value, ya = +ys.value, m = +ms.value;
      if (xa === ya) ya = -1;
      filters.forEach(function (s, i) { s.parentNode.style.display = (i === xa || i === ya) ? "none" : ""; });
      var grid = cells(d, xa, ya, m, filters.map(function (s, i) { return (i === xa || i === ya) ? -1 : +s.value; }));
      var few = grid.length * grid[0].length <= 150;
      var trace = {type: "heatmap", x: d.axes[xa].values, y: ya < 0 ? [""] : d.axes[ya].values,
        z: grid.map(function (row) { return row.map(function (c) { return c.mean; }); }),
        customdata: grid.map(function (row) { return row.map(function (c) {
          return [fmt(c.mean, 4), fmt(c.sd, 3), c.n, c.configs]; }); }),
        text: grid.map(function (row) { return row.map(function (c) {
          return c.mean === null ? "" : fmt(c.mean, 3) + (c.sd === null ? "" : " ± " + fmt(c.sd, 2)); }); }),
        texttemplate: few ? "%{text}" : "", colorscale: "Viridis", hoverongaps: false,
        colorbar: {title: {text: d.metrics[m].label}},
        hovertemplate: d.axes[xa].label + " %{x}<br>" + (ya < 0 ? "" : d.axes[ya].label + " %{y}<br>") +
          d.metrics[m].label + " %{customdata[0]}<br>spread over seeds (sd) %{customdata[1]}<br>" +
          "%{customdata[2]} runs, %{customdata[3]} configuration(s) besides the seed<extra></extra>"};
      var layout = {height: Math.max(320, 90 + 40 * trace.y.length), margin: {l: 140, r: 20, t: 30, b: 80},
        xaxis: {title: {text: d.axes[xa].label}, type: "category"},
        yaxis: {title: {text: ya < 0 ? "" : d.axes[ya].label}, type: "category"},
        title: {text: d.metrics[m].label + " (mean over runs; ± sd over seeds)", font: {size: 13}}};
      Plotly.react(plot, [trace], layout, {responsive: true, displaylogo: false});
      root.setAttribute("data-shown", JSON.stringify({x: xa, y: ya, metric: m}));
    }
    [xs, ys, ms].concat(filters).forEach(function (s) { s.addEventListener("change", draw); });
    draw();
  }
  function render(div) {
    if (div.getAttribute("data-rendered")) return;
    div.setAttribute("data-rendered", "1");
    if (typeof Plotly === "undefined") { fail(div, "plotly.js did not load: this view cannot be drawn."); return; }
    if (div.classList.contains("explorer")) renderExplorer(div); else renderScatter(div);
  }
  function start() {
    var views = document.querySelectorAll("[data-spec]");
    if (!("IntersectionObserver" in window)) { views.forEach(render); return; }
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { if (e.isIntersecting) render(e.target); });
    }, {rootMargin: "300px"});
    views.forEach(function (v) { seen.observe(v); });
  }
  window.strataRender = render;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
"""
