"""Sweep comparisons from the runs table: which settings a sweep varies, which metrics it has,
and any metric pooled over two settings with its spread over seeds.

The page's explorer computes the same cells in the browser for whatever the reader picks;
`grid` is the same computation in pandas, for the CSV the page links and for checking.
"""
import json

import numpy as np
import pandas as pd

from strata_results.tables import resolved_config

# Settings that name inputs rather than set anything.
NOT_AXES = ("embed", "train", "format")
# Axes in the order they are offered (then the rest by name, the seed last).
AXIS_ORDER = ("atoms", "sparsity", "strata", "embedding", "lista_steps", "gate", "lr", "load_balance",
              "entropy_weight", "preset", "epochs", "strata_on", "analysis_pca_dim")
AXIS_LABELS = {"atoms": "atoms", "sparsity": "sparsity set", "strata": "strata S", "embedding": "model",
               "lista_steps": "LISTA steps", "gate": "gate", "lr": "learning rate", "load_balance": "λ load balance",
               "entropy_weight": "λ entropy", "seed": "seed", "preset": "preset"}
# Columns of the runs table that count or place a run rather than measure it.
NOT_METRICS = ("rank", "ranks", "train_rank", "train_ranks", "epochs_run", "experts", "strata")
METRIC_LABELS = {"dim_pca": "intrinsic dimension PCA-75% (size-weighted)", "dim_twonn": "intrinsic dimension TwoNN "
                 "(size-weighted)", "dim_mle": "intrinsic dimension MLE (size-weighted)",
                 "weighted_sparsity": "weighted sparsity (mean over points)", "loss": "training loss (last epoch)",
                 "final_loss": "final loss", "recon_error_mean": "reconstruction error (mean)",
                 "entropy_overall": "gating entropy (nats)", "entropy_mean": "gating entropy, training (nats)",
                 "ari_source": "ARI strata vs sources", "nmi_source": "NMI strata vs sources",
                 "seconds": "analysis seconds", "train_seconds": "training seconds"}
METRIC_ORDER = ("dim_", "weighted_sparsity", "spearman_", "variance", "loss", "final_loss", "recon_error",
                "entropy", "ari_", "nmi_")


def metric_label(name):
    if name in METRIC_LABELS:
        return METRIC_LABELS[name]
    if name.startswith("spearman_dim_"):
        return f"Spearman ρ of {name[len('spearman_dim_'):]} dimension vs truth"
    if name.startswith("dim_"):
        return f"intrinsic dimension {name[4:]} (size-weighted)"
    return name


def config_keys(catalog):
    """Every configuration key of the finished runs (as columns of the runs table)."""
    keys = set()
    for r in catalog.runs:
        if r.done:
            keys |= set(resolved_config(r))
    return keys


def _rank(key, order):
    for i, prefix in enumerate(order):
        if key == prefix or key.startswith(prefix):
            return i
    return len(order)


def axes(runs, catalog):
    """(column, label, values in order) of every setting whose value differs between finished runs;
    the seed comes last."""
    keys = [k for k in config_keys(catalog) if k in runs.columns and k not in NOT_AXES]
    out = []
    for k in keys:
        values = runs[k].dropna().unique().tolist()
        if len(values) < 2:
            continue
        out.append((k, AXIS_LABELS.get(k, k), sorted(values, key=_order_key)))
    return sorted(out, key=lambda a: (a[0] == "seed", _rank(a[0], AXIS_ORDER), a[0]))


def _order_key(v):
    if isinstance(v, tuple):
        return (1, len(v), tuple(_order_key(x) for x in v))
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return (0, float(v), "")
    return (2, 0, json.dumps(v, default=str))


def metrics(runs, catalog):
    """(column, label) of every numeric measurement of the runs with at least one finite value."""
    skip = config_keys(catalog) | set(NOT_METRICS)
    out = []
    for name in runs.columns:
        if name in skip or not pd.api.types.is_numeric_dtype(runs[name]) or pd.api.types.is_bool_dtype(runs[name]):
            continue
        if np.isfinite(runs[name].to_numpy(dtype=np.float64)).any():
            out.append(name)
    out.sort(key=lambda m: (_rank(m, METRIC_ORDER), m.endswith("seconds"), _estimator_rank(m), m))
    return [(m, metric_label(m)) for m in out]


def _estimator_rank(metric):
    """The paper's estimators in its order (PCA, TwoNN, MLE), then any other."""
    for i, name in enumerate(("pca", "twonn", "mle")):
        if metric.endswith("dim_" + name):
            return i
    return 3


def default_pair(axis_list):
    """The two settings a heatmap shows first: the non-seed axes with the most values."""
    candidates = [a for a in axis_list if a[0] != "seed"] or list(axis_list)
    ranked = sorted(range(len(candidates)), key=lambda i: -len(candidates[i][2]))
    pick = sorted(ranked[:2])
    names = [candidates[i][0] for i in pick]
    index = [next(j for j, a in enumerate(axis_list) if a[0] == n) for n in names]
    return (index[0], index[1]) if len(index) > 1 else (index[0], -1)


def grid(runs, axis_list, x, y, metric):
    """A metric over two axes with every other setting pooled: per (x, y) cell the mean over its runs,
    the pooled standard deviation of runs that differ in the seed alone, the number of runs and of
    configurations besides the seed. `x`, `y`: column names (y None for one axis)."""
    others = [a[0] for a in axis_list if a[0] not in (x, y, "seed")]
    df = runs[[c for c in {x, y, metric, *others} if c]].copy()
    df = df[np.isfinite(df[metric].to_numpy(dtype=np.float64))]
    keys = [x] + ([y] if y else [])
    rows = []
    for cell, part in df.groupby(keys, sort=False, dropna=False):
        ss = dof = 0.0  # `cell` is a tuple of the keys' values (pandas groups by a list of keys)
        configs = part.groupby(others, sort=False, dropna=False) if others else [((), part)]
        count = 0
        for _, g in configs:
            count += 1
            v = g[metric].to_numpy(dtype=np.float64)
            if len(v) > 1:
                ss += float(np.sum((v - v.mean()) ** 2))
                dof += len(v) - 1
        rows.append({"x": cell[0], "y": cell[1] if y else None, "mean": float(part[metric].mean()),
                     "sd_over_seeds": float(np.sqrt(ss / dof)) if dof else np.nan, "runs": len(part),
                     "configurations": count})
    return pd.DataFrame(rows)
