"""The report's interactive views in headless Chromium, offline (every request off the machine is
sent to a closed port): hovering a point of the 3-D scatter shows that point's text, source and
stratum; the colour switch recolours the points by source; the sweep explorer's heatmap holds the
means over runs that h5py's numbers give, and follows its menus."""
import json
import subprocess
import sys
import time

import h5py
import numpy as np

from strata_test import SOURCE, quickstart_variant, scratch, strata

sys.path.insert(0, str(SOURCE / "tests" / "bench"))  # make_sweep_archive
from browser import Browser, find_chromium  # noqa: E402
import make_sweep_archive  # noqa: E402

if find_chromium() is None:
    print("chromium is not installed: browser checks skipped")
    sys.exit(77)

tmp = scratch("report-views")
REPORT = SOURCE / "results" / "report.py"


def report(archive, out):
    p = subprocess.run([sys.executable, str(REPORT), str(archive), "-o", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    page = (out / "index.html").read_text(encoding="utf-8")
    # Offline: plotly.js is a file beside the page, and nothing is loaded from elsewhere.
    assert '<script src="figures/plotly.min.js"></script>' in page and (out / "figures" / "plotly.min.js").is_file()
    assert "src=\"http" not in page and "href=\"http" not in page
    return page


def texts_of(values):
    return [v.decode() if isinstance(v, bytes) else v for v in values]


# --- the quickstart (a few epochs): hover a point ------------------------------------------------
sweep = quickstart_variant(tmp, epochs=4, bootstrap=0)
archive = tmp / "quickstart.h5"
strata("run", sweep, "--archive", archive, "--threads", "2", "--no-report", "--quiet")
out = tmp / "report"
page = report(archive, out)
with h5py.File(archive, "r") as f:
    (rid,) = list(f["runs"])
    labels = f["runs"][rid]["out/strata"][()]
    texts = texts_of(f["corpus/text"][()])
    sources = texts_of(f["corpus/source"][()])
    source_names = texts_of(f["corpus/source_names"][()])

SCATTER = "document.querySelector('.view.scatter')"
with Browser(tmp / "profile", 1400, 1000, offline=True) as b:
    b.open((out / "index.html").as_uri())
    b.wait_for("document.readyState === 'complete'")
    b.js(f"{SCATTER}.scrollIntoView()")
    b.wait_for(f"!!({SCATTER}._fullLayout && {SCATTER}.querySelector('canvas'))", timeout=60)
    b.js(f"window.__hovered = null; {SCATTER}.on('plotly_hover', function (e) {{"
         " window.__hovered = e.points[0].customdata; })")
    time.sleep(1.0)  # the scene's first frames
    box = b.js(f"(function () {{ var r = {SCATTER}.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }})()")
    shown = None
    # Real mouse moves over the plot until one lands on a point (the scene picks what is under it).
    for i in range(2, 19):
        for j in range(2, 19):
            b.mouse_move(box[0] + box[2] * i / 20, box[1] + box[3] * j / 20)
            state = b.js("new Promise(function (done) { requestAnimationFrame(function () { requestAnimationFrame("
                         "function () { var h = document.querySelector('.view.scatter .hovertext');"
                         " done([window.__hovered, h ? h.textContent : null]); }); }); })")
            if state[0] and state[1]:
                shown = state
                break
        if shown:
            break
    assert shown, "no point showed a hover label"
    custom, label_text = shown
    row = int(custom[0])
    assert texts[row] in label_text, (texts[row], label_text)
    assert f"source {sources[row]}" in label_text and f"stratum {labels[row]}" in label_text, label_text
    print(f"hover: row {row} shows {label_text!r}")

    # The colour switch: the menu's "source" entry recolours the points by their source.
    b.click_element(f"{SCATTER}.querySelector('.updatemenu-header-group')")
    b.wait_for(f"{SCATTER}.querySelectorAll('.updatemenu-dropdown-button').length >= 2")
    b.click_element(f"Array.prototype.filter.call({SCATTER}.querySelectorAll('.updatemenu-dropdown-button'),"
                    " function (e) { return e.textContent === 'colour: source'; })[0]")
    colours = b.wait_for(f"(function () {{ var c = {SCATTER}.data[0].marker.color;"
                         f" return {SCATTER}.data[0].marker.colorbar.title.text === 'source' ? c : null; }})()")
    assert colours == [source_names.index(s) for s in sources], "the source colouring does not match the corpus"
    assert b.errors == [], b.errors
print("colour switch: points coloured by their source")

# --- a grid: the explorer's heatmap against h5py's numbers ----------------------------------------
grid_archive = tmp / "grid.h5"
make_sweep_archive.main([str(grid_archive), "--atoms", "16,32,64", "--sets", "2", "--seeds", "3", "--strata", "3,5",
                         "--rows", "300"])
grid_out = tmp / "grid-report"
report(grid_archive, grid_out)
runs = []
with h5py.File(grid_archive, "r") as f:
    for rid, r in f["runs"].items():
        cfg = json.loads(r.attrs["config"])
        sizes = r["analysis/sizes"][()].astype(np.float64)
        runs.append({"atoms": cfg["atoms"], "sparsity": ",".join(map(str, cfg["sparsity"])), "strata": cfg["strata"],
                     "seed": cfg["seed"], "pca": float(np.sum(r["analysis/dims/pca"][()] * sizes) / sizes.sum()),
                     "ws": float(np.sum(r["analysis/weighted_sparsity"][()] * sizes) / sizes.sum())})


def expected(x, y, metric):
    """{(x value, y value): (mean over runs, pooled sd over seeds)} computed here."""
    cells = {}
    for r in runs:
        cells.setdefault((str(r[x]), str(r[y])), []).append(r)
    out = {}
    for key, rs in cells.items():
        groups = {}
        for r in rs:
            groups.setdefault(tuple(r[k] for k in ("atoms", "sparsity", "strata") if k not in (x, y)), []).append(r[metric])
        ss = sum(float(np.sum((np.array(g) - np.mean(g)) ** 2)) for g in groups.values())
        dof = sum(len(g) - 1 for g in groups.values())
        out[key] = (np.mean([r[metric] for r in rs]), np.sqrt(ss / dof))
    return out


def check_heatmap(b, x, y, metric, axis_label):
    trace = b.wait_for("(function () { var d = document.querySelector('.explorer .plot-area');"
                       " return d.data && d.layout.xaxis.title.text === " + json.dumps(axis_label) +
                       " ? {x: d.data[0].x, y: d.data[0].y, z: d.data[0].z, c: d.data[0].customdata} : null; })()")
    want = expected(x, y, metric)
    assert len(trace["x"]) * len(trace["y"]) == len(want), (trace["x"], trace["y"], want)
    for j, yv in enumerate(trace["y"]):
        for i, xv in enumerate(trace["x"]):
            mean, sd = want[(xv, yv)]
            assert np.isclose(trace["z"][j][i], mean, rtol=1e-5), (xv, yv, trace["z"][j][i], mean)
            assert np.isclose(float(trace["c"][j][i][1]), sd, rtol=2e-2), (xv, yv, trace["c"][j][i], sd)
    return trace


with Browser(tmp / "profile2", 1400, 1000, offline=True) as b:
    b.open((grid_out / "index.html").as_uri())
    b.wait_for("document.readyState === 'complete'")
    b.js("document.querySelector('.explorer').scrollIntoView()")
    # The first view: the two settings with the most values (atoms 3, then the sparsity set), PCA dimension.
    first = check_heatmap(b, "atoms", "sparsity", "pca", "atoms")
    assert first["x"] == ["16", "32", "64"], first["x"]
    # The reader picks another metric and other axes: weighted sparsity over strata x atoms.
    b.js("(function () { var s = document.querySelectorAll('.explorer .controls > label > select');"
         " var pick = function (sel, text) { for (var i = 0; i < sel.options.length; i++)"
         " if (sel.options[i].textContent.indexOf(text) === 0) sel.value = sel.options[i].value;"
         " sel.dispatchEvent(new Event('change')); };"
         " pick(s[0], 'weighted sparsity'); pick(s[2], 'atoms'); pick(s[1], 'strata'); })()")
    check_heatmap(b, "strata", "atoms", "ws", "strata S")
    assert b.errors == [], b.errors
print("explorer: heatmap cells equal the means and seed spreads computed from h5py, menus followed")
