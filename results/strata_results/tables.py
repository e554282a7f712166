"""The archive's tables, built generically from whatever each group holds.

Per-stratum estimates are every dataset under a run's `analysis/` whose first axis has one entry
per stratum; intrinsic dimensions are whatever `analysis/dims/*` holds, and intervals whatever
`analysis/ci/*` holds, so an estimator added to the archive appears here without a code change.
"""
import json
import warnings

import h5py
import numpy as np
import pandas as pd

from .catalog import ANALYSIS_KEYS, ANALYSIS_RENAMES
from .h5 import child, datasets, read

# Per-stratum datasets whose column names are shorter than their archive paths.
STRATUM_NAMES = {"sizes": "size", "entropy_by_stratum": "entropy"}
# Intervals are read by their own rule; per-source datasets may have as many entries as there
# are strata, but are not per stratum.
NOT_PER_STRATUM = ("ci/",)
PER_DOMAIN = ("_by_domain",)
# Attributes that describe a job rather than measure it; kept out of the metric columns.
JOB_ATTRS = ("config", "input_jobs")  # read through Job.status (stale) instead


def cell(value):
    """A configuration or attribute value as a DataFrame cell: lists become tuples (hashable, so
    that runs can be grouped by their sparsity set), mappings JSON text."""
    if isinstance(value, list):
        return tuple(cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def resolved_config(run):
    """A run's whole configuration: its trained model's, then the analysis settings (those that
    share a name with a training setting, `seed` and `pca_dim`, as `analysis_seed`, `analysis_pca_dim`)."""
    if run.trained is not None:
        base = dict(run.trained.config)
    else:
        base = {k: v for k, v in run.config.items() if k not in ANALYSIS_KEYS}
    for k, v in run.config.items():
        if k in ANALYSIS_KEYS:
            base[ANALYSIS_RENAMES.get(k, k)] = v
        elif k not in base:
            base[k] = v
    return base


def dim_column(name):
    return "dim_" + name


def _scalar(ds):
    value = read(ds)
    if isinstance(value, np.generic):
        return value.item()
    return value


def scalars(walked):
    """{relative path: value} of every scalar (shape ()) dataset of a walk (`h5.datasets`)."""
    return {path: _scalar(ds) for path, ds in walked if ds.shape == ()}


def weighted_mean(values, sizes):
    """Mean of per-stratum values weighted by stratum size (a plain mean without sizes)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    w = np.asarray(sizes, dtype=np.float64).ravel() if sizes is not None and len(sizes) == len(v) \
        else np.ones_like(v)
    ok = np.isfinite(v) & (w > 0)
    return float(np.sum(v[ok] * w[ok]) / np.sum(w[ok])) if ok.any() else np.nan


def spearman(x, y):
    """Spearman's rank correlation of two samples (average ranks for ties); NaN when either is
    constant or fewer than three pairs are finite."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return np.nan
    rx, ry = _ranks(x[ok]), _ranks(y[ok])
    if np.std(rx) == 0 or np.std(ry) == 0:
        return np.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def _ranks(values):
    """Ranks 1..n, tied values sharing the mean of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse]


class Truth:
    """Ground truth of a synthetic corpus: each row's true stratum and each stratum's dimension."""

    def __init__(self, catalog):
        self.dims = {}      # embedding name -> per-row true dimension
        spec = (catalog.corpus.config.get("synthetic") if catalog.corpus else None) or {}
        strata = spec.get("stratum") or []  # the [[corpus.synthetic.stratum]] tables
        true_dim = np.array([float(s.get("dim", np.nan)) for s in strata], dtype=np.float64)
        for e in catalog.embeddings:
            truth = catalog.get(f"{e.path}/truth")
            if truth is None or not len(true_dim):
                continue
            truth = np.asarray(truth, dtype=np.int64)
            if truth.min(initial=0) < 0 or truth.max(initial=0) >= len(true_dim):
                continue
            self.dims[e.name] = true_dim[truth]

    def per_stratum(self, embedding, labels, count):
        """Mean true dimension of the rows of each found stratum (NaN for an empty one)."""
        dims = self.dims.get(embedding)
        if dims is None or labels is None or len(labels) != len(dims):
            return None
        labels = np.asarray(labels, dtype=np.int64)
        total = np.bincount(labels, weights=dims, minlength=count)[:count]
        sizes = np.bincount(labels, minlength=count)[:count]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(sizes > 0, total / np.maximum(sizes, 1), np.nan)


def per_stratum_arrays(walked, count):
    """{archive path under analysis/: array} of the datasets of a walk of analysis/ with one entry per
    stratum (one dimensional, `count` long), intervals and other matrices left out."""
    out = {}
    for path, ds in walked:
        if path.startswith(NOT_PER_STRATUM) or path.endswith(PER_DOMAIN) or len(ds.shape) != 1 \
                or ds.shape[0] != count:
            continue
        if h5py.check_string_dtype(ds.dtype) is not None:
            out[path] = np.asarray(read(ds), dtype=object)
        else:
            out[path] = ds[()]
    return out


def stratum_count(run_group, analysis):
    """Strata of a run: the length of its sizes, else its `strata` attribute."""
    sizes = child(analysis, "sizes") if analysis is not None else None
    if isinstance(sizes, h5py.Dataset) and len(sizes.shape) == 1:
        return sizes.shape[0]
    return int(run_group.attrs.get("strata", 0) or 0)


def strata_table(catalog, run, source_names):
    """One row per stratum of a run: every per-stratum dataset, intervals as _lo/_hi columns."""
    group = catalog.file[run.path]
    analysis = child(group, "analysis")
    if not isinstance(analysis, h5py.Group):
        return pd.DataFrame({"stratum": pd.Series([], dtype=np.int64)})
    count = stratum_count(group, analysis)
    table = {"stratum": np.arange(count, dtype=np.int64)}
    names = {}
    walked = datasets(analysis, follow_links=True)
    for path, values in per_stratum_arrays(walked, count).items():
        name = dim_column(path[len("dims/"):]) if path.startswith("dims/") else STRATUM_NAMES.get(path, path)
        names[path] = name
        table[name] = values
    for path, ds in walked:
        if path.startswith("ci/") and len(ds.shape) == 2 and ds.shape[0] == count and ds.shape[1] >= 3:
            values = np.asarray(ds[()], dtype=np.float64)
            name = _ci_column(path[len("ci/"):], names, table)
            if name not in table:
                table[name] = values[:, 0]
            table[name + "_lo"], table[name + "_hi"] = values[:, 1], values[:, 2]
        elif path == "contingency" and ds.shape == (count, len(source_names)):
            contingency = ds[()]
            for d, source in enumerate(source_names):
                table[f"points_{source}"] = contingency[:, d]
    return pd.DataFrame(table)[_stratum_order(table)]


def _stratum_order(table):
    """stratum, size, the dimensions, weighted sparsity, entropy, the rest; each interval after its value."""
    lead = ["stratum", "size"] + sorted(c for c in table if c.startswith("dim_") and not c.endswith(("_lo", "_hi"))) \
        + ["weighted_sparsity", "entropy"]
    values = [c for c in lead if c in table] + [c for c in table if c not in lead and not c.endswith(("_lo", "_hi"))]
    order = []
    for c in values:
        order += [c] + [c + s for s in ("_lo", "_hi") if c + s in table]
    return order + [c for c in table if c not in order]


def _ci_column(path, names, table):
    """The column an interval ci/<path> belongs to: a dimension, a renamed dataset, or its own."""
    for candidate in (f"dims/{path}", path, f"{path}_by_stratum"):
        if candidate in names:
            return names[candidate]
    return dim_column(path) if dim_column(path) in table else path


def run_metrics(catalog, run, truth):
    """Scalar metrics of one run: scalar datasets of its analysis, size-weighted means of its
    intrinsic dimensions and weighted sparsity, the last training loss, and Spearman's rho of each
    intrinsic dimension against the true one where the corpus is synthetic."""
    group = catalog.file[run.path]
    analysis = child(group, "analysis")
    out = {}
    if not isinstance(analysis, h5py.Group):
        return out
    walked = datasets(analysis, follow_links=True)
    out.update(scalars(walked))
    count = stratum_count(group, analysis)
    arrays = per_stratum_arrays(walked, count)
    sizes = arrays.get("sizes")
    true_dims = truth.per_stratum(run.embedding, catalog.get(f"{run.path}/out/strata"), count) \
        if truth.dims.get(run.embedding) is not None else None
    for path, values in arrays.items():
        if path.startswith("dims/") and np.asarray(values).dtype.kind in "fiu":
            name = dim_column(path[len("dims/"):])
            out[name] = weighted_mean(values, sizes)
            if true_dims is not None:
                out["spearman_" + name] = spearman(values, true_dims)
    if "weighted_sparsity" in arrays:
        out["weighted_sparsity"] = weighted_mean(arrays["weighted_sparsity"], sizes)
    return out


def trained_metrics(catalog, trained):
    """Scalar metrics of one trained model: its attributes' numbers, its last loss, and every
    scalar dataset under its analysis/."""
    out = {}
    if trained is None:
        return out
    group = catalog.file[trained.path]
    loss = child(group, "train/loss")
    if isinstance(loss, h5py.Dataset) and len(loss.shape) == 1 and loss.shape[0]:
        out["loss"] = float(loss[-1])
        out["epochs_run"] = int(loss.shape[0])
    analysis = child(group, "analysis")
    if isinstance(analysis, h5py.Group):
        out.update(scalars(datasets(analysis)))
    return out


def job_row(job, skip=()):
    """Status, error, id and every attribute of a job (configuration aside)."""
    row = {"status": job.status, "error": job.error or None}
    for k, v in job.attrs.items():
        if k not in skip and k not in JOB_ATTRS and k not in ("status", "error"):
            row[k] = cell(v)
    return row


def add(row, values, prefix):
    """Adds values to a row; a name already taken by another value gets the prefix (the same value
    under the same name, like a run's `strata` attribute and setting, is kept once)."""
    for k, v in values.items():
        v = cell(v)
        if k not in row:
            row[k] = v
        elif not _same(row[k], v):
            row[prefix + k] = v


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def runs_table(catalog):
    truth = Truth(catalog)
    rows = []
    for r in catalog.runs:
        row = {"run": r.id, "embedding": r.embedding, "train_id": r.train_id}
        add(row, resolved_config(r), "config_")
        add(row, job_row(r), "run_")
        if isinstance(row.get("sparsity"), tuple):
            row["experts"] = len(row["sparsity"])
        if r.done:
            add(row, run_metrics(catalog, r, truth), "analysis_")
        if r.trained is not None:
            add(row, {k: v for k, v in job_row(r.trained).items() if k not in ("job_id", "embedding")}, "train_")
            if r.trained.done:
                add(row, trained_metrics(catalog, r.trained), "train_")
        rows.append(row)
    return frame(rows, first=("run", "status", "embedding", "train_id"))


def trained_table(catalog):
    rows = []
    for t in catalog.trained.values():
        row = {"trained": t.id, "embedding": t.embedding}
        add(row, job_row(t), "attr_")
        add(row, {k: v for k, v in t.config.items()}, "config_")
        if isinstance(row.get("sparsity"), tuple):
            row["experts"] = len(row["sparsity"])
        if t.done:
            add(row, trained_metrics(catalog, t), "metric_")
        rows.append(row)
    return frame(rows, first=("trained", "status", "embedding"))


def embeddings_table(catalog):
    rows = []
    for e in catalog.embeddings:
        row = {"embedding": e.name, "rows": e.shape[0] if e.shape else None,
               "width": e.shape[1] if e.shape and len(e.shape) > 1 else None,
               "null_of": e.null_of}
        add(row, job_row(e), "attr_")
        add(row, e.config, "config_")
        rows.append(row)
    return frame(rows, first=("embedding", "status"))


def frame(rows, first=()):
    """A DataFrame of dict rows, the named columns first, numeric columns numeric."""
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=list(first))
    order = [c for c in first if c in df.columns] + [c for c in df.columns if c not in first]
    df = df[order]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return df.infer_objects()
