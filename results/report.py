#!/usr/bin/env python3
"""The HTML report of a strata archive: the paper's figures and tables, and the sweep's.

    report.py ARCHIVE.h5 -o DIR [--inline] [--detail-runs N]

writes DIR/index.html (readable offline), its figures as PNG files in DIR/figures/ with
plotly.js beside them for the interactive views (or all inside the page with --inline) and its
tables as CSV files in DIR/tables/. Reads the archive with strata_results (beside this script).
Needs matplotlib, h5py, numpy and pandas; plotly for the interactive views (without it the page
says so and keeps its figures). Exit codes: 0 written, 2 the input is not a strata archive.
`strata report` and the end of `strata run` call this script.
"""
import argparse
import functools
import json
import platform
import sys
import warnings
from collections import Counter, OrderedDict
from pathlib import Path

import numpy as np

import strata_results as sr
from strata_results.catalog import NotAnArchive, setting_text
import report_figures as figs
import report_geometry as geometry
import report_interactive as views
import report_sweep as sweep
from report_html import Page, esc, slug, write_csv

MAX_TABLE_GROUPS = 6      # configurations whose Table 1 / Table 2 are shown in the page (CSV: all)
MAX_LISTED = 200          # rows of the run and model listings shown in the page (CSV: all)
MAX_DETAIL_TOTAL = 24     # run detail sections over all embeddings
MAX_LINES = 8             # lines per sweep or ablation figure
MAX_LOSS_CURVES = 10      # loss curves per embedding

# Settings worth naming when telling configurations apart, in the order they are named.
DESCRIBED = (("preset", "preset"), ("strata", "strata"), ("sparsity", "sparsity"), ("atoms", "atoms"),
             ("gate", "gate"), ("lista_steps", "K"), ("lr", "lr"), ("epochs", "epochs"), ("seed", "seed"),
             ("strata_on", "strata on"), ("pca_dim", "pca_dim"))
# Sweep axes a sweep may vary: (setting, label).
SWEEP_AXES = (("atoms", "atoms"), ("sparsity", "sparsity set"), ("strata", "stratum count"),
              ("lista_steps", "LISTA steps"), ("gate", "gate"), ("lr", "learning rate"), ("preset", "preset"))
DIM_ESTIMATORS = (("pca", "PCA-75%"), ("twonn", "TwoNN"), ("mle", "MLE"))


def key_of(settings, without=()):
    """A hashable, ordered identity of settings (lists included), leaving out `without`."""
    return json.dumps({k: v for k, v in settings.items() if k not in without}, sort_keys=True)


def describe(settings, keys=None):
    """Short text naming the settings (all described ones, or only `keys`)."""
    parts = []
    for k, label in DESCRIBED:
        if k in settings and (keys is None or k in keys):
            parts.append(f"{label} {setting_text(settings[k])}")
    return " · ".join(parts)


def varying(settings_list, keys=None):
    """The keys whose values differ across the given settings."""
    keys = keys or sorted({k for s in settings_list for k in s})
    return [k for k in keys if len({json.dumps(s.get(k), sort_keys=True) for s in settings_list}) > 1]


def presets_of(jobs):
    """"preset X" (or "presets X, Y") of the jobs whose numbers a figure or table shows."""
    names = sorted({j.preset for j in jobs})
    return ("presets " if len(names) > 1 else "preset ") + ", ".join(names)


def round_robin(items, order):
    """(embedding, …) items interleaved by embedding, so that a capped figure shows every embedding."""
    queues = OrderedDict((name, []) for name in order)
    for item in items:
        queues.setdefault(item[0], []).append(item)
    out = []
    while any(queues.values()):
        for q in queues.values():
            if q:
                out.append(q.pop(0))
    return out


def fmt_num(value, digits=3):
    if value is None:
        return "-"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(v):
        return "-"
    return f"{v:.{digits}f}" if abs(v) < 1e5 else f"{v:.4g}"


SEED_RESAMPLES = 2000


def seed_bootstrap(values, rng, resamples=SEED_RESAMPLES):
    """values [seeds, strata]: the mean over seeds and a 95% percentile interval from resampling
    the seeds with replacement (NaN seeds, e.g. a stratum too small for an estimator, are skipped)."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    with warnings.catch_warnings():  # an all-NaN stratum gives NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=0)
        draws = values[rng.integers(0, n, size=(resamples, n))]  # [resamples, seeds, strata]
        means = np.nanmean(draws, axis=1)
        lo, hi = np.nanpercentile(means, [2.5, 97.5], axis=0)
    return mean, lo, hi


def weighted_mean(values, sizes):
    """Mean of per-stratum values weighted by stratum size (plain mean without sizes)."""
    if values is None:
        return np.nan
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(sizes, dtype=np.float64) if sizes is not None and len(sizes) == len(v) else np.ones_like(v)
    ok = np.isfinite(v) & (w > 0)
    return float(np.sum(v[ok] * w[ok]) / np.sum(w[ok])) if ok.any() else np.nan


class Report:
    """Builds the page, figures and tables of one archive into one folder."""

    def __init__(self, archive, out_dir, inline=False, detail_runs=1):
        self.results = archive      # strata_results.Archive: the tables
        self.a = archive.catalog    # its records of the jobs and datasets on demand
        self.out = Path(out_dir)
        self.detail_runs = detail_runs
        for sub, pattern in (("figures", "*.png"), ("tables", "*.csv")):
            (self.out / sub).mkdir(parents=True, exist_ok=True)
            for stale in (self.out / sub).glob(pattern):  # a previous report's files would mislead
                stale.unlink()
        name = Path(archive.path).name
        self.page = Page(f"strata report: {name}", self.out, inline)
        self.done = [r for r in self.a.runs if r.done]
        self.groups = self._table_groups()
        self.figure_count = 0
        self.inline = inline
        self.plotly = views.plotly_js()
        self.view_count = 0

    # --- helpers -----------------------------------------------------------------------

    def save(self, fig, name):
        """Saves a figure under figures/ and returns its path relative to the page (None for no figure)."""
        if fig is None:
            return None
        rel = f"figures/{slug(name)}.png"
        figs.save(fig, self.out / rel)
        self.figure_count += 1
        return rel

    @staticmethod
    def guarded(draw, run, name):
        """One figure of a run; data the figure cannot take costs that figure, not the report."""
        try:
            return draw(run, name)
        except Exception as e:  # noqa: BLE001  (any failure of one figure is reported in its place)
            figs.plt.close("all")
            print(f"report: warning: {name}: {type(e).__name__}: {e}", file=sys.stderr)
            return None, f"{run.embedding}: this figure could not be drawn ({type(e).__name__}: {e})"

    def run_data(self, run, name):
        """A dataset of a run, looking through to its trained model for what lives there."""
        value = self.a.get(f"{run.path}/{name}")
        if value is None and run.trained is not None:
            value = self.a.get(f"{run.trained.path}/{name}")
        return value

    def _table_groups(self):
        """Done runs grouped by configuration (all settings but the embedding), most complete first."""
        groups = OrderedDict()
        for r in self.done:
            groups.setdefault(key_of(r.settings), OrderedDict()).setdefault(r.embedding, r)
        order = sorted(groups, key=lambda k: -len(groups[k]))
        return [groups[k] for k in order]

    def ordered(self, names):
        order = self.a.embedding_order()
        return sorted(names, key=lambda n: order.index(n) if n in order else len(order))

    # --- the page ----------------------------------------------------------------------

    def write(self):
        self.summary()
        self.paper_tables()
        self.seed_intervals()
        self.embedding_sections()
        geometry.write_section(self)
        self.ablations()
        self.sweep_views()
        self.run_listing()
        self.provenance()
        self.failures()
        self.view_scripts()
        (self.out / "index.html").write_text(self.page.render(), encoding="utf-8")
        return self.out / "index.html"

    # --- interactive views ---------------------------------------------------------------

    def view(self, spec, cls, note, **data):
        """An interactive view: its specification as a data block, a placeholder where it is drawn."""
        if self.plotly is None:
            self.page.para("plotly is not installed (pip install plotly): the interactive view is left out.",
                           "note")
            return
        self.view_count += 1
        ident = f"view-{self.view_count}"
        self.page.script(views.spec_script(f"spec-{self.view_count}", spec))
        attrs = "".join(f' data-{k}="{esc(v)}"' for k, v in data.items())
        inner = '<div class="controls"></div><div class="plot-area"></div>' if cls == "explorer" else ""
        self.page.raw(f'<div class="view {cls}" id="{ident}" data-spec="spec-{self.view_count}"{attrs}>{inner}</div>'
                      f'<p class="note">{esc(note)}</p>')

    def view_scripts(self):
        """plotly.js (beside the page, or inside it with --inline) and the code that draws the views."""
        stale = self.out / "figures" / "plotly.min.js"
        if stale.exists():
            stale.unlink()
        if not self.view_count:
            return
        source, version = self.plotly
        if self.inline:
            self.page.script(f"<script>{source}</script>")
        else:
            stale.write_text(source, encoding="utf-8")
            self.page.script('<script src="figures/plotly.min.js"></script>')
        self.page.script(f"<script>{views.SCRIPT}</script>")
        self.page.para(f"Interactive views drawn by plotly.js {version} (shipped with the page).", "note")

    def _interactive_scatter(self, run, null=False):
        """The 3-D PCA projection of a run's embedding, coloured by a switch, each point's text on hover."""
        pca3 = self.run_data(run, "analysis/pca3")
        if pca3 is None or len(pca3) == 0:
            self.page.para(f"{run.embedding}: no 3-D projection in the archive: no interactive view.", "note")
            return
        n = len(pca3)
        strata = self.a.get(f"{run.path}/out/strata")
        strata = np.asarray(strata) if strata is not None and len(strata) == n else None
        selected = self.run_data(run, "out/selected")
        if selected is None:
            gating = self.run_data(run, "out/gating")
            selected = np.argmax(gating, axis=1) if gating is not None and len(gating) == n else None
        selected = np.asarray(selected) if selected is not None and len(selected) == n else None
        corpus = self.results.corpus
        rows_match = len(corpus) == n and not null
        texts = corpus["text"].to_numpy() if rows_match and "text" in corpus else None
        if null:
            texts = np.array([f"Gaussian null draw {i}" for i in range(n)], dtype=object)
        domain = self.a.domain_index() if rows_match else None
        sources = np.asarray(self.a.source_names(), dtype=object)[domain] if domain is not None and \
            (domain >= 0).all() else None
        labels = corpus["label"].to_numpy() if rows_match and "label" in corpus else None
        colourings = []
        if strata is not None:
            S = max(run.strata, int(strata.max()) + 1)
            colourings.append(("stratum", strata, self._stratum_labels(run, S)))
        if sources is not None:
            colourings.append(("source", domain, self.a.source_names()))
        if labels is not None:
            values = sorted(set(labels.tolist()))
            colourings.append(("label", np.searchsorted(values, labels), [str(v) for v in values]))
        if selected is not None:
            sparsity = self.run_data(run, "sparsity")
            E = int(selected.max()) + 1 if len(selected) else 0
            E = max(E, len(sparsity) if sparsity is not None else 0)
            names = [f"{e} (s={int(sparsity[e])})" if sparsity is not None and e < len(sparsity) else str(e)
                     for e in range(E)]
            colourings.append(("gating argmax", selected, names))
        if not colourings:
            colourings.append(("none", np.zeros(n, dtype=np.int64), ["all"]))
        rows = views.subsample(n)
        spec = views.scatter_spec(pca3, colourings, rows, texts, sources, labels, strata, selected,
                                  f"{run.embedding}: PCA-3, run {run.id}")
        shown = (f"all {n} points" if len(rows) == n else
                 f"a random subset of {len(rows)} of the {n} points (seed {views.SUBSAMPLE_SEED})")
        self.view(spec, "scatter", f"{run.embedding}: drag to turn, scroll to zoom, hover a point for its text, "
                  f"source, label, stratum (run {run.id}, {run.strata} strata) and expert; the menu switches the "
                  f"colouring ({', '.join(c[0] for c in colourings)}). Showing {shown}.",
                  embedding=run.embedding, run=run.id)

    def summary(self):
        a, p = self.a, self.page
        p.section("summary", "Summary")
        presets = a.presets()
        p.raw("<p>Archive <code>{}</code>, written by strata {} on {} (archive format {}).</p>".format(
            esc(a.path), esc(a.root.get("program_version", "?")), esc(a.root.get("created", "?")),
            esc(a.root.get("format_version", "?"))))
        p.raw("<p>Preset{}: {} <span class=\"note\">(paper: the paper's equations; authors-code: the procedure "
              "of the authors' published code)</span></p>".format(
                  "s" if len(presets) > 1 else "", " ".join(f'<span class="preset">{esc(x)}</span>' for x in presets)
                  or "none recorded"))
        rows = self.a.corpus_rows()
        corpus = (f"{rows} rows from {len(a.source_names())} sources ({', '.join(a.source_names())})"
                  if rows is not None else "not in the archive")
        p.para(f"Corpus: {corpus}.")
        nulls = [e.name for e in a.embeddings if e.null_of]
        p.para(f"Embeddings: {len(a.embeddings)} ({', '.join(e.name for e in a.embeddings) or 'none'})"
               + (f"; Gaussian null models: {', '.join(nulls)}" if nulls else "") + ".")
        p.para(f"Trained models: {len(a.trained)}; runs (trained model × stratum count): {len(a.runs)}, "
               f"{len(self.done)} done.")
        failed = a.failed()
        if failed:
            p.raw(f'<p class="warn">{len(failed)} job(s) did not finish: see <a href="#failed">Failed jobs</a>.</p>')
        self._readout_summary()
        stale = [r for r in a.runs if r.status == "stale"]
        if stale:
            p.raw(f'<p class="warn">{len(stale)} run(s) are stale: made from an embedding computed again since '
                  f'(e.g. {esc(stale[0].error)}); they are left out of every table and figure.</p>')

    def _readout_summary(self):
        """Whether Table 2 can be read, first: the runs whose model health makes it uninformative."""
        if not self.done:
            return
        problems = Counter(str(r.attrs.get("readout", "")).removeprefix("not informative: ") for r in self.done
                           if str(r.attrs.get("readout", "")).startswith("not informative"))
        n, bad = len(self.done), sum(problems.values())
        if bad:
            reasons = "; ".join(f"{esc(k)} ({v})" for k, v in problems.most_common())
            self.page.raw(f'<p class="warn">Table 2 (gating-weighted sparsity) is not informative in {bad} of {n} '
                          f'runs: {reasons}. Its numbers for those runs say nothing about the strata; the Runs '
                          f'table\'s "Table 2" column names each one.</p>')
        elif any("readout" in r.attrs for r in self.done):
            runs = "its one run" if n == 1 else f"all {n} runs"
            self.page.para(f"Table 2 (gating-weighted sparsity) is informative in {runs}: no gate collapsed, "
                           f"and the model explains the variance inside the strata.")

    def run_listing(self):
        p = self.page
        p.section("runs", "Runs")
        header = ["run", "status", "embedding", "preset", "experts", "sparsity", "atoms", "gate", "K", "lr", "seed",
                  "strata", "final loss", "recon. error", "gating entropy", "ARI (source)", "NMI (source)",
                  "Table 2"]
        rows = []
        for r in self.a.runs:
            s, t = r.settings, r.trained
            ta = t.attrs if t else {}
            rows.append([r.id, r.status, r.embedding, r.preset, len(s.get("sparsity", [])) or "-",
                         setting_text(s.get("sparsity", "-")), s.get("atoms", "-"), s.get("gate", "-"),
                         s.get("lista_steps", "-"), setting_text(s.get("lr", "-")), s.get("seed", "-"), r.strata,
                         fmt_num(ta.get("final_loss"), 5), fmt_num(ta.get("recon_error_mean"), 5),
                         fmt_num(self.a.get(f"{r.path}/analysis/entropy_overall") if r.done else None),
                         fmt_num(self.a.get(f"{r.path}/analysis/ari_source") if r.done else None),
                         fmt_num(self.a.get(f"{r.path}/analysis/nmi_source") if r.done else None),
                         str(r.attrs.get("readout", "-")) if r.done else (r.error or "-")])
        write_csv(self.out / "tables/runs.csv", header, rows)
        if not rows:
            p.para("The archive holds no runs.", "note")
            return
        shown = rows[:MAX_LISTED]
        caption = "Every run" if len(shown) == len(rows) else f"First {len(shown)} of {len(rows)} runs"
        long = len(shown) > 30
        if long:
            p.raw(f"<details><summary>{len(rows)} runs (click to show)</summary>")
        p.table(header, shown, caption=caption, text_columns=(0, 1, 2, 3, 5, 7, 17), csv_name="tables/runs.csv")
        if long:
            p.raw("</details>")

    # --- Tables 1 and 2 ----------------------------------------------------------------

    def stratum_values(self, run, name):
        """(estimate, lo, hi) arrays per stratum: the point estimate, with bootstrap bounds when stored."""
        est = self.a.get(f"{run.path}/analysis/{name}")
        ci_name = {"dims/pca": "pca", "dims/twonn": "twonn", "dims/mle": "mle", "weighted_sparsity":
                   "weighted_sparsity", "entropy_by_stratum": "entropy"}[name]
        ci = self.a.get(f"{run.path}/analysis/ci/{ci_name}")
        if est is None:
            return None
        est = np.asarray(est, dtype=np.float64)
        if ci is None or np.shape(ci) != (len(est), 3):
            return est, np.full_like(est, np.nan), np.full_like(est, np.nan)
        return est, np.asarray(ci[:, 1], dtype=np.float64), np.asarray(ci[:, 2], dtype=np.float64)

    @staticmethod
    def cell(values, s, digits):
        if values is None or s >= len(values[0]):
            return "-"
        est, lo, hi = (v[s] for v in values)
        text = fmt_num(est, digits)
        if np.isfinite(lo) and np.isfinite(hi):
            text += f" [{fmt_num(lo, digits)}, {fmt_num(hi, digits)}]"
        return text

    def paper_tables(self):
        p = self.page
        p.section("tables", "Table 1 and Table 2")
        p.para("Table 1: intrinsic dimension per stratum — PCA components for 75% of the variance beside the "
               "TwoNN and Levina–Bickel MLE estimates. Table 2: gating-weighted sparsity per stratum (mean over "
               "the stratum's points of Σₑ wₑ sₑ). One column per embedding; Gaussian null models stand beside "
               "their model. Brackets: 95% bootstrap interval, where the sweep asked for one. Strata are numbered "
               "per run (by k-means), so stratum k of one embedding is unrelated to stratum k of another.")
        self._long_csvs()
        if not self.groups:
            p.para("No finished run: no tables.", "note")
            return
        for g, group in enumerate(self.groups[:MAX_TABLE_GROUPS]):
            self._group_tables(g, group)
        if len(self.groups) > MAX_TABLE_GROUPS:
            p.para(f"{len(self.groups) - MAX_TABLE_GROUPS} more configurations are in tables/table1.csv and "
                   "tables/table2.csv.", "note")

    def _group_tables(self, g, group):
        p = self.page
        names = self.ordered(list(group))
        first = group[names[0]]
        S = max(r.strata for r in group.values())
        title = describe(first.settings)
        p.raw(f'<h3>Configuration {g + 1}: <span class="preset">preset {esc(first.preset)}</span></h3>'
              f'<p class="note">{esc(title)}</p>')
        # Table 1
        top = '<tr><th class="text" rowspan="2">stratum</th>' + "".join(
            f'<th colspan="3">{esc(n)}</th>' for n in names) + "</tr>"
        sub = "<tr>" + "".join(f"<th>{esc(lab)}</th>" for _ in names for _, lab in DIM_ESTIMATORS) + "</tr>"
        values = {n: {k: self.stratum_values(group[n], f"dims/{k}") for k, _ in DIM_ESTIMATORS} for n in names}
        rows, csv_rows = [], []
        for s in range(S):
            rows.append([s] + [self.cell(values[n][k], s, 0 if k == "pca" else 2) for n in names
                               for k, _ in DIM_ESTIMATORS])
            csv_rows.append([s] + [fmt_num(v[i][s], 4) if v is not None and s < len(v[0]) else ""
                                   for n in names for k, _ in DIM_ESTIMATORS
                                   for v in [values[n][k]] for i in range(3)])
        csv1 = f"tables/table1_config{g + 1}.csv"
        write_csv(self.out / csv1, ["stratum"] + [f"{n}:{k}{suffix}" for n in names for k, _ in DIM_ESTIMATORS
                                                  for suffix in ("", "_lo", "_hi")], csv_rows)
        p.table(None, rows, caption=f"Table 1 — intrinsic dimension per stratum (preset {first.preset})",
                header_rows=[top, sub], text_columns=(0,), csv_name=csv1)
        # Table 2
        top = '<tr><th class="text" rowspan="2">stratum</th>' + "".join(
            f'<th colspan="2">{esc(n)}</th>' for n in names) + "</tr>"
        sub = "<tr>" + "".join("<th>points</th><th>weighted sparsity</th>" for _ in names) + "</tr>"
        ws = {n: self.stratum_values(group[n], "weighted_sparsity") for n in names}
        sizes = {n: self.a.get(f"{group[n].path}/analysis/sizes") for n in names}
        rows, csv_rows = [], []
        for s in range(S):
            row, crow = [s], [s]
            for n in names:
                size = sizes[n][s] if sizes[n] is not None and s < len(sizes[n]) else "-"
                row += [size, self.cell(ws[n], s, 2)]
                crow += [size] + [fmt_num(ws[n][i][s], 4) if ws[n] is not None and s < len(ws[n][0]) else ""
                                  for i in range(3)]
            rows.append(row)
            csv_rows.append(crow)
        csv2 = f"tables/table2_config{g + 1}.csv"
        write_csv(self.out / csv2, ["stratum"] + [f"{n}:{c}" for n in names for c in
                                                  ("points", "weighted_sparsity", "weighted_sparsity_lo",
                                                   "weighted_sparsity_hi")], csv_rows)
        p.table(None, rows, caption=f"Table 2 — gating-weighted sparsity per stratum (preset {first.preset})",
                header_rows=[top, sub], text_columns=(0,), csv_name=csv2)

    # --- over seeds ------------------------------------------------------------------------

    SEED_FIGURES = [("dims/pca", "PCA dim"), ("dims/twonn", "TwoNN"), ("dims/mle", "MLE"),
                    ("weighted_sparsity", "weighted sparsity"), ("entropy_by_stratum", "gating entropy")]

    def seed_groups(self):
        """Runs that differ in the training seed alone and share their strata, by (embedding, settings)."""
        groups = OrderedDict()
        for r in self.done:
            groups.setdefault((r.embedding, key_of(r.settings, ("seed",))), []).append(r)
        shared, split = [], 0
        for rs in groups.values():
            if len({r.settings.get("seed") for r in rs}) < 2:
                continue
            labels = [self.a.get(f"{r.path}/out/strata") for r in rs]
            if any(lab is None for lab in labels) or any(not np.array_equal(labels[0], lab) for lab in labels[1:]):
                split += 1  # strata found on the gating differ between seeds: stratum k is not one set
                continue
            shared.append(rs)
        return shared, split

    def seed_intervals(self):
        p = self.page
        p.section("seeds", "Over training seeds")
        p.para("For runs that differ in the training seed alone and share their strata (strata found on the "
               "embeddings), each per-stratum figure as its mean over seeds with a 95% bootstrap interval over "
               f"seeds ({SEED_RESAMPLES} resamples of the seeds with replacement, percentile bounds). With few "
               "seeds the interval is coarse; it says how much the figure moves with the seed.")
        groups, split = self.seed_groups()
        if split:
            p.para(f"{split} group(s) of runs differ in the seed alone but have different strata (strata found "
                   "on the gating vectors): stratum k is not the same set of points across their seeds, so they "
                   "are left out.", "note")
        if not groups:
            p.para("The sweep has no runs that differ in the training seed alone: nothing to show.", "note")
            return
        header = ["embedding", "preset", "settings", "seeds", "stratum", "figure", "mean", "lo", "hi", "per seed"]
        rows = []
        rng = np.random.default_rng(0)
        for rs in groups:
            first = rs[0]
            for name, label in self.SEED_FIGURES:
                per_seed = [self.a.get(f"{r.path}/analysis/{name}") for r in rs]
                if any(v is None for v in per_seed):
                    continue
                values = np.asarray(per_seed, dtype=np.float64)  # [seeds, strata]
                mean, lo, hi = seed_bootstrap(values, rng)
                for s in range(values.shape[1]):
                    rows.append([first.embedding, first.preset, describe({k: v for k, v in first.settings.items() if k != "seed"}), len(rs), s, label,
                                 fmt_num(mean[s], 4), fmt_num(lo[s], 4), fmt_num(hi[s], 4),
                                 " ".join(fmt_num(v, 4) for v in values[:, s])])
        write_csv(self.out / "tables/seed_intervals.csv", header, rows)
        p.table(header, rows[:MAX_LISTED], text_columns=(0, 1, 2, 5, 9), csv_name="tables/seed_intervals.csv")

    def _long_csvs(self):
        """Tables 1 and 2 of every finished run, one row per run and stratum."""
        head = ["run", "embedding", "preset", "configuration", "stratum", "points"]
        t1, t2 = [], []
        for r in self.done:
            sizes = self.a.get(f"{r.path}/analysis/sizes")
            dims = {k: self.stratum_values(r, f"dims/{k}") for k, _ in DIM_ESTIMATORS}
            ws = self.stratum_values(r, "weighted_sparsity")
            ent = self.stratum_values(r, "entropy_by_stratum")
            for s in range(r.strata):
                base = [r.id, r.embedding, r.preset, describe(r.settings), s,
                        sizes[s] if sizes is not None and s < len(sizes) else ""]
                t1.append(base + [fmt_num(v[i][s], 4) if v is not None and s < len(v[0]) else ""
                                  for k, _ in DIM_ESTIMATORS for v in [dims[k]] for i in range(3)])
                t2.append(base + [fmt_num(v[i][s], 4) if v is not None and s < len(v[0]) else ""
                                  for v in (ws, ent) for i in range(3)])
        write_csv(self.out / "tables/table1.csv",
                  head + [f"{k}{x}" for k, _ in DIM_ESTIMATORS for x in ("", "_lo", "_hi")], t1)
        write_csv(self.out / "tables/table2.csv",
                  head + ["weighted_sparsity", "weighted_sparsity_lo", "weighted_sparsity_hi",
                          "gating_entropy", "gating_entropy_lo", "gating_entropy_hi"], t2)

    # --- per embedding -----------------------------------------------------------------

    def embedding_sections(self):
        p = self.page
        p.section("embeddings", "Per embedding")
        p.para("The 3-D PCA projection of each embedding (interactive: turn it, hover a point to read its text, "
               "colour it by stratum, source, label or the expert the gate picks), the average "
               "gating probability per stratum and per domain (the paper's Figures 2–6), gating entropy, the "
               "distances between expert dictionaries, expert usage and training loss. A Gaussian null model "
               "(one Gaussian with the embedding's mean and covariance, through the same pipeline) follows its "
               "model's projection and is shown to the right of its model.")
        names = self.a.embedding_order()
        leading = [n for n in names if not (n.endswith(".null") and n[:-5] in names)]
        if not leading:
            p.para("The archive holds no embeddings.", "note")
        budget = MAX_DETAIL_TOTAL
        for name in leading:
            budget -= self._embedding_section(name, name + ".null" if name + ".null" in names else None, budget)

    def _embedding_section(self, name, null, budget):
        p = self.page
        p.heading(f"{name}" + (f" and its null model {null}" if null else ""), 3, anchor=f"emb-{slug(name)}")
        self._embedding_meta(name, null)
        shown = 0
        groups = [g for g in self.groups if name in g]
        if groups:
            self._interactive_scatter(groups[0][name])
            if null and null in groups[0]:
                self._interactive_scatter(groups[0][null], null=True)
        for group in groups[: max(0, min(self.detail_runs, budget))]:
            run, partner = group[name], group.get(null) if null else None
            self._run_detail(run, partner)
            shown += 1
        if len(groups) > shown:
            p.para(f"{len(groups) - shown} more finished run(s) of {name} are listed in Runs and in the tables "
                   "(raise --detail-runs to draw them).", "note")
        if not groups:
            p.para(f"No finished run of {name}.", "note")
        self._loss_section(name, null)
        return shown

    def _embedding_meta(self, name, null):
        keys = ("kind", "architecture", "model_path", "import_path", "pooling", "dtype", "device", "weights_hash")
        rows = []
        for n in (name, null):
            e = next((e for e in self.a.embeddings if e.name == n), None)
            if e is None:
                continue
            rows.append([n, e.status, "×".join(map(str, e.shape)) if e.shape else "-"]
                        + [str(e.attrs.get(k, "-")) for k in keys])
        if rows:
            self.page.table(["embedding", "status", "shape"] + list(keys), rows, text_columns=tuple(range(11)))

    def _run_detail(self, run, partner):
        p = self.page
        runs = [r for r in (run, partner) if r is not None]
        p.raw(f'<h4>Run {esc(run.id)}{" / " + esc(partner.id) if partner else ""} '
              f'<span class="preset">preset {esc(run.preset)}</span></h4><p class="note">{esc(describe(run.settings))}</p>')
        for kind, draw in (("gating", self._gating), ("entropy", self._entropy), ("experts", self._experts)):
            p.pair([self.guarded(draw, r, f"{r.embedding}-{r.id}-{kind}") for r in runs])

    def _stratum_labels(self, run, S):
        sizes = self.a.get(f"{run.path}/analysis/sizes")
        return [f"{s} (n={int(sizes[s])})" if sizes is not None and s < len(sizes) else str(s) for s in range(S)]

    def _gating(self, run, name):
        by_s, by_d = self.a.get(f"{run.path}/analysis/gating_by_stratum"), self.a.get(f"{run.path}/analysis/gating_by_domain")
        sparsity = self.run_data(run, "sparsity")
        fig = figs.gating_heatmaps(by_s, self._stratum_labels(run, len(by_s)) if by_s is not None else None, by_d,
                                   self.a.source_names() if by_d is not None and len(self.a.source_names()) == len(by_d)
                                   else None, sparsity, f"{run.embedding} (preset {run.preset})")
        if fig is None:
            return None, f"{run.embedding}: no gating averages in the archive"
        return self.save(fig, name), (f"{run.embedding}: average gating probability per stratum and per source "
                                      "domain; experts labelled with their sparsity s")

    def _entropy(self, run, name):
        ent = self.a.get(f"{run.path}/analysis/entropy_by_stratum")
        ci = self.a.get(f"{run.path}/analysis/ci/entropy")
        ent_d = self.a.get(f"{run.path}/analysis/entropy_by_domain")
        cont = self.a.get(f"{run.path}/analysis/contingency")
        names = self.a.source_names()
        S = len(ent) if ent is not None else (len(cont) if cont is not None else 0)
        fig = figs.gating_entropy_and_agreement(
            ent, ci if ci is not None and ent is not None and np.shape(ci) == (len(ent), 3) else None,
            self._stratum_labels(run, S), ent_d, names if ent_d is not None and len(names) == len(ent_d) else None,
            cont, f"{run.embedding}")
        if fig is None:
            return None, f"{run.embedding}: no entropy or contingency in the archive"
        overall = self.a.get(f"{run.path}/analysis/entropy_overall")
        ari, nmi = self.a.get(f"{run.path}/analysis/ari_source"), self.a.get(f"{run.path}/analysis/nmi_source")
        return self.save(fig, name), (f"{run.embedding}: gating entropy (overall {fmt_num(overall)} nats) and "
                                      f"strata against sources (ARI {fmt_num(ari)}, NMI {fmt_num(nmi)})")

    def _experts(self, run, name):
        fig = figs.expert_geometry(self.run_data(run, "analysis/expert_mean_angle"),
                                   self.run_data(run, "analysis/expert_grassmann"),
                                   self.run_data(run, "analysis/expert_usage"), self.run_data(run, "sparsity"),
                                   f"{run.embedding}: expert dictionaries")
        if fig is None:
            return None, f"{run.embedding}: no expert distances or usage in the archive"
        return self.save(fig, name), (f"{run.embedding}: distances between the experts' dictionary subspaces "
                                      "and expert usage")

    def _loss_section(self, name, null):
        items = []
        for n in (name, null):
            if n is None:
                continue
            models = [t for t in self.a.trained.values() if t.done and t.embedding == n]
            curves = []
            keys = varying([t.settings for t in models])
            for t in models[:MAX_LOSS_CURVES]:
                loss = self.a.get(f"{t.path}/train/loss")
                if loss is not None and len(loss):
                    curves.append((describe(t.settings, keys) or t.id, np.asarray(loss, dtype=np.float64)))
            if not curves:
                items.append((None, f"{n}: no training loss in the archive"))
                continue
            more = f" (first {len(curves)} of {len(models)} models)" if len(models) > len(curves) else ""
            fig = figs.loss_curves(curves, f"{n}: training loss{more}")
            items.append((self.save(fig, f"{n}-loss"), f"{n}: training loss per epoch of its trained models"
                          f" (preset {', '.join(sorted({t.preset for t in models}))})"))
        if items:
            self.page.pair(items)

    # --- ablations ---------------------------------------------------------------------

    def recon_error(self, t):
        v = t.attrs.get("recon_error_mean")
        if v is None:
            err = self.a.get(f"{t.path}/out/recon_error")
            v = float(np.mean(err)) if err is not None and len(err) else np.nan
        return float(v)

    def ablations(self):
        p = self.page
        p.section("ablations", "Reconstruction error: number of experts and the gate")
        models = [t for t in self.a.trained.values() if t.done]
        self._experts_ablation(models)
        self._gate_ablation(models)

    @staticmethod
    def _by(models, axis):
        """Trained models grouped by (embedding, every setting but `axis` and the seed)."""
        groups = OrderedDict()
        for t in models:
            groups.setdefault((t.embedding, key_of(t.settings, (axis, "seed"))), []).append(t)
        return groups

    def _experts_ablation(self, models):
        p = self.page
        p.heading("Against the number of experts")
        series, rows = [], []
        groups = [g for g in self._by(models, "sparsity").values() if len({len(t.sparsity) for t in g}) > 1]
        if not groups:
            p.para("The sweep has no runs that differ in the number of experts (sparsity set length) alone.", "note")
            return
        keys = varying([g[0].settings for g in groups], [k for k, _ in DESCRIBED if k not in ("sparsity", "seed")])
        for g in groups:
            per_set = OrderedDict()
            for t in g:
                per_set.setdefault(setting_text(t.sparsity), []).append(t)
            experts = [len(ts[0].sparsity) for ts in per_set.values()]
            errs = [[self.recon_error(t) for t in ts] for ts in per_set.values()]
            label = g[0].embedding + (" · " + describe(g[0].settings, keys) if keys else "")
            series.append((g[0].embedding, (label, experts, [np.mean(e) for e in errs], [np.std(e) for e in errs])))
            for (sset, ts), e in zip(per_set.items(), errs):
                rows.append([g[0].embedding, g[0].preset, describe(g[0].settings, keys), len(ts[0].sparsity), sset,
                             len(e), fmt_num(np.mean(e), 5), fmt_num(np.std(e), 5)])
        header = ["embedding", "preset", "settings", "experts", "sparsity set", "seeds", "mean recon. error", "sd"]
        write_csv(self.out / "tables/recon_vs_experts.csv", header, rows)
        shown = [line for _, line in round_robin(series, self.a.embedding_order())[:MAX_LINES]]
        fig = figs.recon_vs_experts(shown, "reconstruction error against the number of experts")
        p.figure(self.save(fig, "ablation-experts"), "Mean reconstruction error of each trained model against its "
                 f"number of experts ({presets_of(t for g in groups for t in g)}); bars: standard deviation over "
                 "seeds where there are several"
                 + (f" (first {MAX_LINES} of {len(series)} lines)" if len(series) > MAX_LINES else ""))
        p.table(header, rows[:MAX_LISTED], text_columns=(0, 1, 2, 4), csv_name="tables/recon_vs_experts.csv")

    def _gate_ablation(self, models):
        p = self.page
        p.heading("With and without the gate")
        groups = [g for g in self._by(models, "gate").values() if len({t.config.get("gate") for t in g}) > 1]
        if not groups:
            p.para("The sweep has no runs that differ in the gate alone (gate = [\"attention\", \"uniform\"] "
                   "in [moe] adds them).", "note")
            return
        gates = sorted({t.config.get("gate") for g in groups for t in g})
        keys = varying([g[0].settings for g in groups], [k for k, _ in DESCRIBED if k not in ("gate", "seed")])
        bars, rows = [], []
        for g in groups:
            label = g[0].embedding + (" · " + describe(g[0].settings, keys) if keys else "")
            stats = {}
            for gate in gates:
                errs = [self.recon_error(t) for t in g if t.config.get("gate") == gate]
                if errs:
                    stats[gate] = (float(np.mean(errs)), float(np.std(errs)))
                    rows.append([g[0].embedding, g[0].preset, describe(g[0].settings, keys), gate, len(errs),
                                 fmt_num(stats[gate][0], 5), fmt_num(stats[gate][1], 5)])
            bars.append((g[0].embedding, (label, stats)))
        header = ["embedding", "preset", "settings", "gate", "seeds", "mean recon. error", "sd"]
        write_csv(self.out / "tables/recon_vs_gate.csv", header, rows)
        shown = [bar for _, bar in round_robin(bars, self.a.embedding_order())[:MAX_LINES]]
        fig = figs.gate_ablation(shown, gates, "reconstruction error by gate"
                                 + (f" (first {len(shown)} of {len(bars)} groups)" if len(bars) > len(shown) else ""))
        p.figure(self.save(fig, "ablation-gate"), "Mean reconstruction error with the learned attention gate and "
                 f"with uniform weights, i.e. no gate ({presets_of(t for g in groups for t in g)}); bars: standard "
                 "deviation over seeds where there are several")
        p.table(header, rows[:MAX_LISTED], text_columns=(0, 1, 2, 3), csv_name="tables/recon_vs_gate.csv")

    # --- sweep views -------------------------------------------------------------------

    def run_summary(self, r):
        """Per-run numbers of the sweep views: size-weighted means over strata (strata_results' runs table)."""
        row = self.run_rows.get(r.id, {})
        out = {k: float(row.get(f"dim_{k}", np.nan)) for k, _ in DIM_ESTIMATORS}
        out["weighted_sparsity"] = float(row.get("weighted_sparsity", np.nan))
        return out

    @functools.cached_property
    def run_rows(self):
        runs = self.results.runs
        return {row["run"]: row for row in runs.to_dict("records")} if len(runs) else {}

    def sweep_explorer(self):
        """A heatmap of any metric over any two swept settings, the spread over seeds in each cell."""
        p = self.page
        p.heading("Any metric over two settings")
        runs = self.results.runs
        done = runs[runs["status"] == "done"] if len(runs) else runs
        axis_list = sweep.axes(done, self.a) if len(done) else []
        metric_list = sweep.metrics(done, self.a) if len(done) else []
        if not axis_list or not metric_list:
            p.para("The sweep varies no setting between finished runs: nothing to compare.", "note")
            return
        x, y = sweep.default_pair(axis_list)
        p.para("Each cell: the mean of the chosen metric over the finished runs with those two settings, the other "
               "settings pooled (or fixed with the menus below the plot's controls), and ± the spread over seeds: the "
               "pooled standard deviation of runs that differ in the seed alone. The sweep varies: "
               + "; ".join(f"{label} ({len(values)} values)" for _, label, values in axis_list) + ".")
        spec = views.sweep_spec(done, axis_list, metric_list)
        self.view(spec, "explorer", f"{len(done)} finished runs, {len(metric_list)} metrics; the first view is "
                  f"{metric_list[0][1]} over {axis_list[x][1]}" + (f" and {axis_list[y][1]}" if y >= 0 else "")
                  + ". All cells of that pair for every metric: tables/sweep_grid.csv.", x=x, y=y)
        rows = []
        for metric, label in metric_list:
            g = sweep.grid(done, axis_list, axis_list[x][0], axis_list[y][0] if y >= 0 else None, metric)
            for cell in g.itertuples():
                rows.append([metric, axis_list[x][0], setting_text(cell.x), axis_list[y][0] if y >= 0 else "",
                             setting_text(cell.y) if y >= 0 else "", fmt_num(cell.mean, 6),
                             fmt_num(cell.sd_over_seeds, 6), cell.runs, cell.configurations])
        write_csv(self.out / "tables/sweep_grid.csv", ["metric", "x", "x value", "y", "y value", "mean",
                                                       "sd over seeds", "runs", "configurations"], rows)

    def sweep_views(self):
        p = self.page
        p.section("sweep", "Sweep views")
        self.sweep_explorer()
        p.heading("Along each setting")
        p.para("How the intrinsic dimension (size-weighted mean over strata, by each estimator) and the "
               "gating-weighted sparsity (mean over all points) move along each setting the sweep varies. One line "
               "per embedding and combination of the other settings; points are means over seeds, bars their "
               "standard deviation.")
        if not self.done:
            p.para("No finished run: nothing to compare.", "note")
            return
        summaries = {r.id: self.run_summary(r) for r in self.done}
        rows, fixed = [], []
        for axis, label in SWEEP_AXES:
            values = sorted({json.dumps(r.settings.get(axis)) for r in self.done if axis in r.settings},
                            key=lambda v: (len(json.loads(v)) if v.startswith("[") else 0, json.loads(v)))
            if len(values) < 2:
                fixed.append(f"{label} {setting_text(json.loads(values[0]))}" if values else label)
                continue
            rows += self._sweep_axis(axis, label, values, summaries)
        if fixed:
            p.para(f"The sweep does not vary: {'; '.join(fixed)}.", "note")
        seeds = {r.settings.get("seed") for r in self.done}
        if rows and len(seeds) < 2:
            p.para("The sweep has one seed: no spread over seeds to show.", "note")
        write_csv(self.out / "tables/sweep.csv", ["axis", "value", "embedding", "preset", "other settings", "seeds"]
                  + [k for k, _ in figs.SWEEP_PANELS] + [k + "_sd" for k, _ in figs.SWEEP_PANELS], rows)

    def _sweep_axis(self, axis, label, values, summaries):
        lines = OrderedDict()
        for r in self.done:
            lines.setdefault((r.embedding, key_of(r.settings, (axis, "seed"))), []).append(r)
        order = self.ordered(sorted({e for e, _ in lines}))
        keyed = sorted(lines.items(), key=lambda kv: (order.index(kv[0][0]), -len(kv[1])))
        keys = varying([rs[0].settings for _, rs in keyed], [k for k, _ in DESCRIBED if k not in (axis, "seed")])
        plotted, rows = [], []
        for (emb, _), rs in keyed:
            first = rs[0]
            other = describe(first.settings, keys)
            data = {k: (np.full(len(values), np.nan), np.zeros(len(values))) for k, _ in figs.SWEEP_PANELS}
            for i, v in enumerate(values):
                at = [summaries[r.id] for r in rs if json.dumps(r.settings.get(axis)) == v]
                if not at:
                    continue
                row = [axis, setting_text(json.loads(v)), emb, first.preset, other, len(at)]
                for k, _ in figs.SWEEP_PANELS:
                    xs = np.array([s[k] for s in at], dtype=np.float64)
                    data[k][0][i] = np.nanmean(xs) if np.isfinite(xs).any() else np.nan
                    data[k][1][i] = np.nanstd(xs) if np.isfinite(xs).sum() > 1 else 0.0
                row += [fmt_num(data[k][0][i], 4) for k, _ in figs.SWEEP_PANELS]
                row += [fmt_num(data[k][1][i], 4) for k, _ in figs.SWEEP_PANELS]
                rows.append(row)
            if sum(np.isfinite(data["pca"][0])) >= 1:
                plotted.append((emb, emb + (" · " + other if other else ""), data))
        labels = [setting_text(json.loads(v)) for v in values]
        shown = [(name, data) for _, name, data in round_robin(plotted, order)[:MAX_LINES]]
        fig = figs.sweep_axis(label, labels, shown, f"along {label}")
        more = f" (first {MAX_LINES} of {len(plotted)} lines; all in tables/sweep.csv)" if len(plotted) > MAX_LINES else ""
        self.page.heading(f"Along {label}")
        self.page.figure(self.save(fig, f"sweep-{axis}"), f"Intrinsic dimension and weighted sparsity against "
                         f"{label} ({presets_of(self.done)}){more}")
        return rows

    # --- provenance and failures -------------------------------------------------------

    def provenance(self):
        a, p = self.a, self.page
        p.section("provenance", "Provenance")
        root_keys = ("program", "program_version", "format_version", "created", "rebuilt_from_journal")
        p.table(["attribute", "value"], [[k, a.root[k]] for k in root_keys if k in a.root], text_columns=(0, 1),
                caption="Archive")
        if a.corpus is not None:
            c = a.corpus
            p.table(["corpus", "value"], [["status", c.status], ["job id", c.attrs.get("job_id", "-")],
                                          ["fingerprint", c.attrs.get("fingerprint", "-")],
                                          ["sources", ", ".join(a.source_names())],
                                          ["configuration", json.dumps(c.config, sort_keys=True)]],
                    text_columns=(0, 1), caption="Corpus")
        keys = ("kind", "model_path", "import_path", "architecture", "weights_hash", "tokenizer_hash", "pooling",
                "dtype", "device", "seconds")
        rows = [[e.name, e.status, "×".join(map(str, e.shape)) if e.shape else "-"]
                + [fmt_num(e.attrs[k], 2) if k == "seconds" and k in e.attrs else str(e.attrs.get(k, "-"))
                   for k in keys] for e in a.embeddings]
        header = ["embedding", "status", "shape"] + list(keys)
        write_csv(self.out / "tables/embeddings.csv", header, rows)
        p.table(header, rows, text_columns=tuple(range(len(header) - 1)), caption="Embeddings",
                csv_name="tables/embeddings.csv")
        header = ["trained model", "status", "embedding", "preset", "experts", "atoms", "gate", "seed", "epochs",
                  "device", "seconds", "final loss"]
        rows = [[t.id, t.status, t.embedding, t.preset, len(t.sparsity) or "-", t.config.get("atoms", "-"),
                 t.config.get("gate", "-"), t.config.get("seed", "-"), t.config.get("epochs", "-"),
                 t.attrs.get("device", "-"), fmt_num(t.attrs.get("seconds"), 2), fmt_num(t.attrs.get("final_loss"), 5)]
                for t in a.trained.values()]
        write_csv(self.out / "tables/trained.csv", header, rows)
        p.table(header, rows[:MAX_LISTED], text_columns=(0, 1, 2, 3, 6, 9), csv_name="tables/trained.csv",
                caption="Trained models" + (f" (first {MAX_LISTED} of {len(rows)})" if len(rows) > MAX_LISTED else ""))
        p.heading("Sweep file")
        p.pre(a.root.get("sweep_toml", "(not recorded)"))
        history = a.root.get("sweep_history") or []
        history = [history] if isinstance(history, str) else history
        if len(history) > 1:
            p.para(f"The archive was continued {len(history) - 1} time(s) with --resume; the sweep files used, "
                   "oldest first:")
            for i, text in enumerate(history):
                p.details(f"sweep file {i + 1} of {len(history)}", text)
        p.para(f"Report written with Python {platform.python_version()}, matplotlib {figs.matplotlib.__version__}, "
               f"numpy {np.__version__}.", "note")

    def failures(self):
        p = self.page
        p.section("failed", "Failed jobs")
        failed = self.a.failed()
        if not failed:
            p.para("Every job of the archive finished.")
            return
        rows = [[j.path, j.status, j.error or "-", json.dumps(j.config, sort_keys=True)[:300]] for j in failed]
        write_csv(self.out / "tables/failed.csv", ["object", "status", "error", "configuration"], rows)
        p.table(["object", "status", "error", "configuration"], rows, text_columns=(0, 1, 2, 3),
                csv_name="tables/failed.csv")


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Write the HTML report of a strata archive.")
    ap.add_argument("archive", help="the archive (.h5) written by strata run")
    ap.add_argument("-o", "--out", help="output folder (default: ARCHIVE with .report in place of .h5)")
    ap.add_argument("--inline", action="store_true", help="embed the figures in index.html as data URIs")
    ap.add_argument("--detail-runs", type=int, default=1, metavar="N",
                    help="runs per embedding drawn in full (default 1; at most %d in all)" % MAX_DETAIL_TOTAL)
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    path = Path(args.archive)
    out = Path(args.out) if args.out else path.with_suffix(".report")
    if not path.is_file():
        print(f"report: {path}: no such file", file=sys.stderr)
        return 2
    try:
        archive = sr.open(path)
    except NotAnArchive as e:
        print(f"report: {e}", file=sys.stderr)
        return 2
    try:
        report = Report(archive, out, inline=args.inline, detail_runs=args.detail_runs)
        index = report.write()
    finally:
        archive.close()
    print(f"report: {index} ({report.figure_count} figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
