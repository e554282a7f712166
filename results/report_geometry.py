"""The report's geometry section: what /geometry/<embedding> holds, per embedding and against layer.

For each embedding with a geometry job: its global dimensions (Gride at every scale, TwoNN with
decimation, correlation and PH0 dimensions) with their errors, the pointwise local IDs per group
(the true strata or the sources) and per stratum found (k-means or a trained gate) as medians and
quartiles, each group's persistent homology when computed (loops against the landmarks' spacing),
the points where groups meet with their text, and every readout the job flagged as uninformative,
with why. For a model embedded at several layers (<model>@L<k>), every estimator against the layer.
"""
import json
import re

import numpy as np

import report_figures as figs
from report_html import slug, write_csv

MAX_BOUNDARY_ROWS = 20   # points where groups meet, listed with their text
MAX_LABELINGS = 4        # stratifications of one embedding whose local ID is tabulated


def geometry_names(catalog):
    """The embeddings with a finished geometry job, in the report's order."""
    group = catalog.file.get("geometry")
    if group is None:
        return []
    names = [n for n in group if group[n].attrs.get("status", "done") == "done"]
    order = catalog.embedding_order()
    return sorted(names, key=lambda n: order.index(n) if n in order else len(order))


class Geometry:
    """One /geometry/<embedding> group: its datasets by name, flags and meanings."""

    def __init__(self, catalog, name):
        self.name = name
        self.path = f"geometry/{name}"
        self.catalog = catalog
        g = catalog.file[self.path]
        self.doc = json.loads(g.attrs.get("doc", "{}"))
        self.groups = str(g.attrs.get("groups", ""))

    def get(self, name):
        return self.catalog.get(f"{self.path}/{name}")

    def number(self, name):
        v = self.get(name)
        return float(np.asarray(v).ravel()[0]) if v is not None and np.size(v) else np.nan

    def flag(self, readout):
        v = self.get(f"{readout}/flag")
        return v[0] if v else None

    def group_names(self):
        names, values = self.get("groups/names"), self.get("groups/values")
        if names is None or values is None:
            return ["all points"]
        return [names[int(v)] if 0 <= int(v) < len(names) else str(v) for v in values]


def _fmt(x, digits=2):
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _with_err(value, err):
    return _fmt(value) if err is None or not np.isfinite(err) else f"{_fmt(value)} ± {_fmt(err)}"


def global_rows(geos):
    """One row per embedding: the dimensions of the whole cloud, each with its error or range."""
    rows = []
    for g in geos:
        gride, gerr = g.get("gride/id"), g.get("gride/err")
        twonn, tstd = g.get("twonn_scaling/id"), g.get("twonn_scaling/std")
        rows.append([
            g.name, f"{int(g.number('points/analysed'))} of {int(g.number('points/given'))}",
            _with_err(gride[0], gerr[0]) if gride is not None and len(gride) else "—",
            _with_err(gride[-1], gerr[-1]) if gride is not None and len(gride) else "—",
            _with_err(twonn[0], tstd[0]) if twonn is not None and len(twonn) else "—",
            f"{_fmt(g.number('correlation/dimension'))} (r {_fmt(g.number('correlation/r_lo'), 3)}–"
            f"{_fmt(g.number('correlation/r_hi'), 3)})",
            _fmt(g.number("ph0/dimension")),
            _fmt(g.number("volume/violating_share")),
            _fmt(g.number("boundary/flagged_share")),
        ])
    return rows


def local_rows(g):
    """Per group and k: median [q25, q75] of the pointwise local MLE and TwoNN."""
    ks = g.get("local_id/ks")
    if ks is None:
        return [], []
    header = ["group"] + [f"{est} k={int(k)}" for est in ("MLE", "TwoNN") for k in ks]
    rows = []
    names = g.group_names()
    parts = {est: [g.get(f"local_id/by_group/{est}/{q}") for q in ("median", "q25", "q75")] for est in ("mle", "twonn")}
    for s, label in enumerate(names):
        row = [label]
        for est in ("mle", "twonn"):
            med, lo, hi = parts[est]
            for j in range(len(ks)):
                row.append("—" if med is None else f"{_fmt(med[s, j])} [{_fmt(lo[s, j])}, {_fmt(hi[s, j])}]")
        rows.append(row)
    return header, rows


def labelings(g, catalog):
    """The finished stratifications of g's embedding: (what they are, out/strata per row, too_small
    per stratum or None, truth (dim, purity) per stratum or None). k-means strata are one /strata
    object each; strata from a trained gate belong to their run."""
    found = []
    for job in catalog.strata.values():
        if job.done and job.attrs.get("embedding", job.config.get("embedding")) == g.name:
            found.append((f"k-means, {job.config.get('strata', '?')} strata", job.path))
    for run in catalog.runs:
        if run.done and run.embedding == g.name and run.config.get("strata_on") == "gating":
            found.append((f"gating of run {run.id} ({run.strata} strata)", run.path))
    out = []
    for label, path in found[:MAX_LABELINGS]:
        strata = catalog.get(f"{path}/out/strata")
        if strata is None:
            continue
        dim, purity = catalog.get(f"{path}/analysis/truth/dim"), catalog.get(f"{path}/analysis/truth/purity")
        out.append((label, np.asarray(strata), catalog.get(f"{path}/analysis/too_small"),
                    (dim, purity) if dim is not None and purity is not None else None))
    return out


def quartiles_by_label(values, labels, count):
    """Per label 0 .. count-1: points, and median, q25, q75 [count, columns] of each column of
    values [points, columns] over that label's points, non-finite values left out (NaN where none)."""
    values = np.asarray(values, dtype=np.float64)
    sizes = np.zeros(count, dtype=np.int64)
    q = np.full((3, count, values.shape[1]), np.nan)
    for s in range(count):
        v = values[labels == s]
        sizes[s] = len(v)
        for j in range(values.shape[1]):
            col = v[:, j][np.isfinite(v[:, j])]
            if len(col):
                q[:, s, j] = np.quantile(col, [0.5, 0.25, 0.75])
    return sizes, q


def strata_rows(g, strata, too_small, truth):
    """Per stratum of one stratification: its analysed points, the true stratum it mostly holds
    (synthetic corpora) and the local MLE and TwoNN median [q25, q75] over its points per k."""
    ks, rows_of = g.get("local_id/ks"), g.get("points/rows")
    mle, twonn = g.get("local_id/mle"), g.get("local_id/twonn")
    if ks is None or rows_of is None or mle is None or twonn is None:
        return [], []
    S = int(strata.max()) + 1 if strata.size else 0
    labels = strata[np.asarray(rows_of, dtype=np.int64)]  # the stratum of each analysed point
    parts = [quartiles_by_label(v, labels, S) for v in (mle, twonn)]
    header = ["stratum", "points analysed"] + (["true dim (purity)"] if truth else []) + \
             [f"{est} k={int(k)}" for est in ("MLE", "TwoNN") for k in ks]
    out = []
    for s in range(S):
        row = [s, int(parts[0][0][s])]
        if truth:
            row.append(f"{_fmt(truth[0][s], 0)} ({_fmt(truth[1][s])})")
        small = too_small is not None and s < len(too_small) and bool(too_small[s])
        for _, q in parts:
            for j in range(len(ks)):
                row.append("— (too small)" if small else f"{_fmt(q[0, s, j])} [{_fmt(q[1, s, j])}, {_fmt(q[2, s, j])}]")
        out.append(row)
    return header, out


def boundary_rows(g, catalog):
    """The flagged points most mixed with other groups, with their text where the corpus has one."""
    flagged, mixing, ratio = g.get("boundary/flagged"), g.get("boundary/mixing"), g.get("boundary/id_ratio")
    rows_of, groups = g.get("points/rows"), g.get("points/groups")
    if flagged is None or rows_of is None or len(flagged) == 0:
        return []
    text = catalog.get("corpus/text")
    text_row = catalog.get(f"embeddings/{g.name}/text_row")
    names = g.group_names()
    order = sorted(flagged, key=lambda i: -mixing[int(i)])[:MAX_BOUNDARY_ROWS]
    out = []
    for i in order:
        i = int(i)
        row = int(rows_of[i])
        corpus_row = int(text_row[row]) if text_row is not None else row
        words = text[corpus_row] if text and corpus_row < len(text) and text[corpus_row] else ""
        out.append([row, names[int(groups[i])] if groups is not None else "—", _fmt(mixing[i]), _fmt(ratio[i]),
                    words[:160]])
    return out


def layered(geos):
    """Models embedded at several layers: model -> [(layer, Geometry)] in layer order."""
    by_model = {}
    for g in geos:
        m = re.fullmatch(r"(.+)@L(\d+)", g.name)
        if m:
            by_model.setdefault(m.group(1), []).append((int(m.group(2)), g))
    return {k: sorted(v, key=lambda t: t[0]) for k, v in by_model.items() if len(v) > 1}


def id_against_layer(model, layers):
    """Every estimator against the layer, with error bars where the estimator has them."""
    ks = [k for k, _ in layers]

    def first(g, name, err=None):
        """The estimate at the first scale (and its error), read once; NaN where absent."""
        v, e = g.get(name), g.get(err) if err else None
        if v is None or not np.size(v):
            return np.nan, np.nan
        return float(np.ravel(v)[0]), float(np.ravel(e)[0]) if e is not None and np.size(e) else np.nan

    def local_median(g):
        mle = g.get("local_id/mle")
        return (float(np.nanmedian(mle[:, 0])), np.nan) if mle is not None and mle.size else (np.nan, np.nan)

    series = {
        "Gride (smallest scale)": [first(g, "gride/id", "gride/err") for _, g in layers],
        "TwoNN (all points)": [first(g, "twonn_scaling/id", "twonn_scaling/std") for _, g in layers],
        "local MLE (median)": [local_median(g) for _, g in layers],
        "correlation": [first(g, "correlation/dimension") for _, g in layers],
        "PH0": [first(g, "ph0/dimension") for _, g in layers],
    }
    fig, ax = figs.plt.subplots(figsize=(6.4, 3.6))
    for (label, values), colour in zip(series.items(), figs.colours(len(series))):
        v = np.array([x for x, _ in values], dtype=float)
        e = np.array([x for _, x in values], dtype=float)
        ax.errorbar(ks, v, yerr=np.where(np.isfinite(e), e, 0), marker="o", capsize=3, label=label, color=colour)
    return figs.labelled(fig, ax, "layer (0: the embedding layer's output)", "intrinsic dimension",
                         f"{model}: intrinsic dimension against layer", legend_outside=False)


def overlap_matrix(geos):
    """[embedding, embedding] mean neighbourhood overlap (NaN where not compared), or None."""
    names = [g.name for g in geos]
    M = np.full((len(names), len(names)), np.nan)
    for i, g in enumerate(geos):
        values, others = g.get("overlap/embeddings"), g.get("overlap/embedding_names")
        if values is None or not others:
            continue
        M[i, i] = 1.0
        for v, other in zip(np.atleast_1d(values), others):
            if other in names:
                M[i, names.index(other)] = v
    if np.isfinite(M).sum() <= len(names):
        return None
    fig, ax = figs.plt.subplots(figsize=(1.0 + 0.55 * len(names), 0.8 + 0.5 * len(names)))
    figs.heatmap(ax, M, names, names, "neighbourhood overlap (shared k nearest neighbours)", vmin=0, vmax=1)
    return fig


def volume_curves(g, count=6):
    """log N(r) against log r of sampled points: some whose growth bends upward, some whose does not."""
    log_r, log_n, bends = g.get("volume/log_r"), g.get("volume/log_n"), g.get("volume/violates")
    if log_r is None or log_n is None or bends is None or len(log_r) == 0:
        return None
    bent, straight = np.flatnonzero(bends == 1)[:count], np.flatnonzero(bends == 0)[:count]
    fig, ax = figs.plt.subplots(figsize=(5.2, 3.6))
    for idx, colour, label in ((straight, "tab:blue", "fits one slope"), (bent, "tab:red", "bends upward (flagged)")):
        for j, i in enumerate(idx):
            ax.plot(log_r[i], log_n, marker=".", color=colour, alpha=0.7, label=label if j == 0 else None)
    return figs.labelled(fig, ax, "log r", "log N(r)", f"{g.name}: volume growth of sampled points (slope: local dimension)",
                         legend_outside=False)


def persistence_rows(g):
    """One row per group with bars: landmarks, spacing, the two longest H1 bars in spacings, loops."""
    spacing, count = g.get("persistence/spacing"), g.get("persistence/landmark_count")
    if spacing is None or count is None:
        return []
    longest, second, loops = g.get("persistence/h1_longest"), g.get("persistence/h1_second"), g.get("persistence/loops")
    rows = []
    for i, name in enumerate(g.group_names()):
        if not np.isfinite(spacing[i]):
            continue
        rows.append([name, int(count[i]), _fmt(spacing[i], 3), _fmt(longest[i] / spacing[i], 1),
                     _fmt(second[i] / spacing[i], 1), int(loops[i])])
    return rows


def persistence_diagram(g, loop_factor):
    """Every group's H1 bars as (birth, death) in units of its spacing, the loop threshold beside them."""
    h1, spacing = g.get("persistence/h1"), g.get("persistence/spacing")
    if h1 is None or spacing is None or len(h1) == 0:
        return None
    names = g.group_names()
    fig, ax = figs.plt.subplots(figsize=(5.2, 3.8))
    for gi, colour in zip(np.unique(h1[:, 0]).astype(int), figs.colours(len(names))):
        bars = h1[h1[:, 0] == gi, 1:] / spacing[gi]
        ax.scatter(bars[:, 0], bars[:, 1], s=12, color=colour, label=names[gi] if gi < len(names) else str(gi))
    top = float(np.nanmax(h1[:, 1:] / spacing[h1[:, 0].astype(int), None]))
    ax.plot([0, top], [0, top], color="grey", lw=0.8)
    if np.isfinite(loop_factor):
        ax.plot([0, top], [loop_factor, top + loop_factor], color="grey", lw=0.8, ls="--", label="loop threshold")
    return figs.labelled(fig, ax, "birth / spacing", "death / spacing",
                         f"{g.name}: H1 persistence diagram (far above the diagonal: a loop)")


def local_id_boxes(g):
    """The pointwise local MLE (first k) per group, as box plots of its points."""
    mle, groups = g.get("local_id/mle"), g.get("points/groups")
    ks = g.get("local_id/ks")
    if mle is None or ks is None:
        return None
    names = g.group_names()
    data = [mle[:, 0][(groups == s) if groups is not None else slice(None)] for s in range(len(names))]
    data = [d[np.isfinite(d)] for d in data]
    fig, ax = figs.plt.subplots(figsize=(max(4.0, 0.9 * len(names) + 2), 3.2))
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), names, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel(f"local MLE (k={int(ks[0])})")
    ax.set_title(f"{g.name}: pointwise local ID by {g.groups or 'group'}")
    return fig


def table(report, header, rows, caption, text_columns, name):
    """A table on the page and the same rows in tables/<name>.csv, which the caption links to."""
    rel = f"tables/{slug(name)}.csv"
    write_csv(report.out / rel, header, rows)
    report.page.table(header, rows, caption=caption, text_columns=text_columns, csv_name=rel)


def write_section(report):
    """The geometry section of `report` (a report.Report); nothing when no embedding has one."""
    names = geometry_names(report.a)
    if not names:
        return
    p = report.page
    p.section("geometry", "Geometry of the embeddings")
    p.para("Computed once per embedding from the embedding alone ([geometry] on = true): Gride's maximum-likelihood "
           "dimension at the smallest and largest neighbour scale, TwoNN on all points (± the spread over "
           "decimated subsets), the correlation dimension over its automatically chosen scaling range, the PH0 "
           "(minimum-spanning-tree) dimension, the share of sampled points whose volume growth bends upward "
           "(no manifold's: typical where strata meet) and the share of points flagged as where groups meet. "
           "Groups are the true strata of a synthetic space, else the sources.")
    geos = [Geometry(report.a, n) for n in names]
    table(report, ["embedding", "points", "Gride (small scale)", "Gride (large scale)", "TwoNN", "correlation",
                   "PH0", "volume bends", "on a boundary"], global_rows(geos),
          "the dimensions of each whole cloud", (0, 1, 5), "geometry_global")
    rel = report.save(overlap_matrix(geos), "geometry-overlap")
    if rel:
        p.figure(rel, "How far the embeddings share each point's boundary_k nearest neighbours (1: the same "
                      "neighbourhoods; blank: rows that cannot be compared, as tokens against texts).")
    for model, layers in layered(geos).items():
        rel = report.save(id_against_layer(model, layers), f"geometry-{model}-layers")
        p.figure(rel, f"{model}: every estimator against the layer (error bars: Gride's standard error, the "
                      "spread of TwoNN over decimated subsets).")
    for g in geos:
        p.heading(f"{g.name}: local dimension and boundaries", 4)
        flags = [(r, g.flag(r)) for r in ("points", "gride", "twonn_scaling", "local_id", "correlation", "volume",
                                          "ph0", "persistence", "boundary")]
        for readout, why in flags:
            if why:
                p.para(f"{readout}: {why}", "note")
        header, rows = local_rows(g)
        if rows:
            table(report, header, rows, "pointwise local ID: median [first quartile, third quartile] over each "
                                        "group's points", tuple(range(len(header))), f"geometry_local_{g.name}")
            rel = report.save(local_id_boxes(g), f"geometry-{g.name}-local")
            if rel:
                p.figure(rel, f"{g.name}: pointwise local MLE per group.")
        for label, strata, too_small, truth in labelings(g, report.a):
            header, rows = strata_rows(g, strata, too_small, truth)
            if rows:
                table(report, header, rows, f"pointwise local ID per stratum ({label}): median [first quartile, "
                                            "third quartile] over the stratum's analysed points; strata under "
                                            "min_stratum points are left out",
                      tuple(range(2, len(header))), f"geometry_strata_{g.name}_{label}")
        rel = report.save(volume_curves(g), f"geometry-{g.name}-volume")
        if rel:
            p.figure(rel, f"{g.name}: log N(r) against log r around sampled points; a curve that steepens with r "
                          "is no manifold's (Robinson et al.), as where strata meet.")
        rows = persistence_rows(g)
        if rows:
            factor = g.number("persistence/loop_factor")
            table(report, ["group", "landmarks", "spacing", "longest H1 bar (spacings)", "second H1 bar (spacings)",
                           "loops"], rows,
                  "persistent homology of each group's farthest-point landmarks (Vietoris-Rips, H0 and H1 over "
                  "Z/2): the spacing is the median H0 bar, the scale of sampling noise; a loop is an H1 bar of at "
                  f"least {factor:g} spacings (persistence_loop_factor), a hole in the group itself. Bars of a "
                  "spacing or two are the sample's noise", (0,), f"geometry_persistence_{g.name}")
            rel = report.save(persistence_diagram(g, factor), f"geometry-{g.name}-persistence")
            if rel:
                p.figure(rel, f"{g.name}: every group's H1 bars in units of its spacing; bars above the dashed line "
                              "count as loops.")
        rows = boundary_rows(g, report.a)
        if rows:
            table(report, ["row", "group", "neighbours from other groups", "local ID / group median", "text"], rows,
                  f"where groups meet: the {len(rows)} flagged points most mixed with other groups "
                  "(all in /geometry/<embedding>/boundary)", (1, 4), f"geometry_boundary_{g.name}")
