"""`strata report` on the quickstart's archive: files, numbers, robustness, and the page as a
browser shows it (headless Chromium: every figure loads, no script error, a screenshot).
The interactive views are driven in test_report_views.py."""
import csv
import json
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np

from strata_test import SOURCE, quickstart_variant, scratch, strata

SCRIPT = SOURCE / "results" / "report.py"
tmp = scratch("report")
archive = tmp / "quickstart.h5"


def report(archive_path, out, *extra):
    """Runs the report script itself (as `strata report` does); returns the CompletedProcess."""
    return subprocess.run([sys.executable, str(SCRIPT), str(archive_path), "-o", str(out), *extra],
                          capture_output=True, text=True)


def images_of(page):
    return re.findall(r'<img src="([^"]+)"', page)


# --- the report of the quickstart ---------------------------------------------------------
strata("run", quickstart_variant(tmp), "--archive", archive, "--threads", "2", "--no-report")
out = tmp / "report"
strata("report", archive, "-o", out)
page = (out / "index.html").read_text(encoding="utf-8")
images = images_of(page)
assert len(images) >= 4, images  # gating, entropy and agreement, expert geometry, loss
assert page.count('class="view scatter"') == 1 and (out / "figures" / "plotly.min.js").is_file()
for src in images:
    assert (out / src).is_file() and (out / src).stat().st_size > 5000, src
for name in ("table1.csv", "table2.csv", "table1_config1.csv", "table2_config1.csv", "runs.csv", "embeddings.csv"):
    assert (out / "tables" / name).is_file(), name

with h5py.File(archive, "r") as f:
    (rid,) = list(f["runs"])
    run = f["runs"][rid]
    pca, ws = run["analysis/dims/pca"][()], run["analysis/weighted_sparsity"][()]
    ci = run["analysis/ci/pca"][()]
    version = f.attrs["program_version"]
    weights = dict(f["embeddings/synthetic"].attrs)
    readouts = [str(r.attrs["readout"]) for r in f["runs"].values()]

# The first screen says whether Table 2 can be read, and the runs table says it per run.
bad = sum(x.startswith("not informative") for x in readouts)
first = page[:page.find('id="runs"')]
if bad:
    assert f"Table 2 (gating-weighted sparsity) is not informative in {bad} of {len(readouts)} runs" in first
else:
    runs = "its one run" if len(readouts) == 1 else f"all {len(readouts)} runs"
    assert f"Table 2 (gating-weighted sparsity) is informative in {runs}" in first, first[-2000:]
with open(out / "tables" / "runs.csv", newline="") as fh:
    assert [r["Table 2"] for r in csv.DictReader(fh)] == readouts

# Table 1 and Table 2 hold the archive's numbers.
with open(out / "tables" / "table1.csv", newline="") as fh:
    t1 = list(csv.DictReader(fh))
with open(out / "tables" / "table2.csv", newline="") as fh:
    t2 = list(csv.DictReader(fh))
assert [r["run"] for r in t1] == [rid] * 5 and [r["preset"] for r in t1] == ["paper"] * 5, t1
assert np.allclose([float(r["pca"]) for r in t1], pca) and np.allclose([float(r["pca_lo"]) for r in t1], ci[:, 1])
assert np.allclose([float(r["weighted_sparsity"]) for r in t2], ws, atol=1e-4)

for text in ("Table 1", "Table 2", "preset paper", "PCA-75%", "TwoNN", "MLE", f"strata {version}",
             'name = "quickstart"', "no runs that differ in the number of experts", "no runs that differ in the gate",
             "Every job of the archive finished"):
    assert text in page.replace("&quot;", '"'), text
print(f"report: {len(images)} figures, tables match the archive (run {rid})")

# --- not an archive: one line on stderr, exit code 2 -----------------------------------------
not_hdf5 = report(SOURCE / "sweeps" / "quickstart.toml", tmp / "bad")
assert not_hdf5.returncode == 2 and "not a strata archive" in not_hdf5.stderr, not_hdf5.stderr
assert len(not_hdf5.stderr.strip().splitlines()) == 1, not_hdf5.stderr
other = tmp / "other.h5"
with h5py.File(other, "w") as f:
    f["x"] = np.zeros(3)
foreign = report(other, tmp / "bad")
assert foreign.returncode == 2 and "not a strata archive" in foreign.stderr, foreign.stderr
missing = report(tmp / "missing.h5", tmp / "bad")
assert missing.returncode == 2 and "no such file" in missing.stderr, missing.stderr
assert strata("report", other, "-o", tmp / "bad", check=False).returncode != 0

# --- a failed run and missing optional parts: reported, not fatal ----------------------------
broken = tmp / "broken.h5"
shutil.copyfile(archive, broken)
with h5py.File(broken, "r+") as f:
    run = f["runs"][rid]
    del run["analysis/ci"]
    del f[f"trained/{run.attrs['train_id']}/analysis/pca3"]
    g = f["runs"].create_group("0000000000000000")
    g.attrs.update(status="failed", error="analysis: 9 strata asked for but only 3 points",
                   config=json.dumps({"strata": 9, "train": run.attrs["train_id"]}), job_id="0000000000000000")
res = report(broken, tmp / "broken-report")
assert res.returncode == 0, res.stderr
bpage = (tmp / "broken-report" / "index.html").read_text(encoding="utf-8")
assert "9 strata asked for but only 3 points" in bpage and "did not finish" in bpage
assert "no 3-D projection" in bpage
for src in images_of(bpage):
    assert (tmp / "broken-report" / src).is_file(), src
print("report: failed run and missing parts reported")

# --- intervals over training seeds ----------------------------------------------------------
# Two seeds of a short quickstart: the strata (k-means on the embeddings) are shared, so each
# per-stratum figure gets a mean over seeds and a bootstrap interval over seeds.
two_seeds = quickstart_variant(tmp, seeds="[0, 1]", epochs=3, bootstrap=0, name="two_seeds.toml")
seed_archive = tmp / "two_seeds.h5"
strata("run", two_seeds, "--archive", seed_archive, "--threads", "2", "--no-report", "--quiet")
seed_out = tmp / "seed_report"
proc = report(seed_archive, seed_out)
assert proc.returncode == 0, proc.stderr
with open(seed_out / "tables" / "seed_intervals.csv", newline="") as f:
    seed_rows = list(csv.DictReader(f))
with h5py.File(seed_archive, "r") as h:
    runs = [h["runs"][k] for k in h["runs"]]
    assert len(runs) == 2
    expected = np.mean([r["analysis/weighted_sparsity"][()] for r in runs], axis=0)
ws = [r for r in seed_rows if r["figure"] == "weighted sparsity"]
assert len(ws) == len(expected) and all(r["seeds"] == "2" for r in ws), ws
for r, want in zip(ws, expected):
    mean, lo, hi = float(r["mean"]), float(r["lo"]), float(r["hi"])
    assert abs(mean - want) < 1e-3 and lo <= mean <= hi, (r, want)
    per_seed = [float(v) for v in r["per seed"].split()]
    assert lo == min(per_seed) or abs(lo - min(per_seed)) < 1e-3, r  # two seeds: the bounds are the two values
assert {r["figure"] for r in seed_rows} == {"PCA dim", "TwoNN", "MLE", "weighted sparsity", "gating entropy"}
print(f"over seeds: {len(seed_rows)} per-stratum intervals, weighted sparsity as in the archive")

# --- the page in a browser ----------------------------------------------------------------------
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if chromium is None:
    print("chromium is not installed: browser checks skipped")
    sys.exit(77)

PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push(e.message || ('failed to load ' + ((e.target && e.target.src) || '?')));
}, true);
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({images: imgs.length, loaded: ok, errors: window.__errors});
  document.body.appendChild(pre);
});
</script>"""
# The probe sits beside index.html so that the figures' relative paths resolve as they do there.
probe = out / "probe.html"
probe.write_text(page.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
browser = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--user-data-dir={tmp / 'chromium-profile'}"]
dom = subprocess.run(browser + ["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                     capture_output=True, text=True, timeout=120)
found = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S)
assert found, dom.stdout[-2000:] + dom.stderr[-2000:]
state = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
assert state["images"] == len(images) and state["loaded"] == len(images), state
assert state["errors"] == [], state
probe.unlink()

shot = tmp / "report-screenshot.png"
subprocess.run(browser + [f"--screenshot={shot}", "--window-size=1400,4000", (out / "index.html").as_uri()],
               capture_output=True, text=True, timeout=120)
assert shot.is_file() and shot.stat().st_size > 50000, shot
print(f"browser: {state['loaded']} of {state['images']} figures loaded, no script error")
# Kept as the CI run's artifact (results/ is where archives and reports land; not tracked).
artifact = SOURCE / "results" / "report-screenshot.png"
shutil.copyfile(shot, artifact)
print(f"screenshot: {artifact}")
