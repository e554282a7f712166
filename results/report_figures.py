"""The report's figures, drawn with matplotlib (Agg backend: no display needed).

Each function takes plain numpy arrays and labels and returns a matplotlib Figure; `save`
writes it as a PNG and frees it. Parts that are absent (None) are left out of a figure, or
drawn as a panel that says so, never invented.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

DPI = 90
MAX_ANNOTATED_CELLS = 120


def save(fig, path):
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)


def labelled(fig, ax, xlabel, ylabel, title, legend_outside=True):
    """Axis labels, a light grid, the legend (right of the axes, or inside) and the title; returns fig."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if legend_outside:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    else:
        ax.legend(fontsize=7)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def colours(count):
    """`count` distinct colours from a qualitative palette (a continuous one past 20)."""
    if count <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(count)]
    if count <= 20:
        return [plt.get_cmap("tab20")(i) for i in range(count)]
    return [plt.get_cmap("turbo")(i / max(count - 1, 1)) for i in range(count)]


def expert_labels(sparsity):
    """Expert axis labels: index and sparsity level s_e when known."""
    if sparsity is None:
        return None
    return [f"{e}\ns={int(s)}" for e, s in enumerate(np.asarray(sparsity).ravel())]


def heatmap(ax, matrix, row_labels, col_labels, title, cmap="viridis", vmin=None, vmax=None, fmt="{:.2f}"):
    """One annotated heatmap panel (annotations only when the cells are few enough to read)."""
    m = np.asarray(matrix, dtype=np.float64)
    image = ax.imshow(m, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xticks(range(m.shape[1]))
    ax.set_yticks(range(m.shape[0]))
    if col_labels is not None:
        ax.set_xticklabels(col_labels, fontsize=7)
    if row_labels is not None:
        ax.set_yticklabels(row_labels, fontsize=7)
    if m.size <= MAX_ANNOTATED_CELLS:
        lo, hi = np.nanmin(m) if np.isfinite(m).any() else 0, np.nanmax(m) if np.isfinite(m).any() else 1
        mid = (lo + hi) / 2
        for (i, j), v in np.ndenumerate(m):
            if np.isfinite(v):
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=7,
                        color="black" if v > mid else "white")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    return image


def gating_heatmaps(by_stratum, stratum_labels, by_domain, domain_labels, sparsity, title):
    """Average gating probability per stratum and per source domain (the paper's Figures 2-6)."""
    panels = [(m, labels, name) for m, labels, name in
              ((by_stratum, stratum_labels, "per stratum"), (by_domain, domain_labels, "per source domain"))
              if m is not None]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 3.6), squeeze=False)
    vmax = max(float(np.nanmax(m)) for m, _, _ in panels)
    for ax, (m, labels, name) in zip(axes[0], panels):
        heatmap(ax, m, labels, expert_labels(sparsity), f"average gating probability {name}", vmin=0, vmax=vmax)
        ax.set_xlabel("expert")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def _bars(ax, values, labels, title, ylabel, ci=None, colour="tab:blue"):
    x = np.arange(len(values))
    labels = labels if labels is not None else [str(i) for i in x]
    yerr = None
    if ci is not None and np.isfinite(ci[:, 1:]).all():
        yerr = np.abs(np.vstack([values - ci[:, 1], ci[:, 2] - values]))
    ax.bar(x, values, color=colour, yerr=yerr, capsize=3)
    ax.set_xticks(x)
    ax.set_xticklabels(labels, fontsize=7, rotation=30 if len(labels) > 6 else 0)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=8)


def gating_entropy_and_agreement(entropy_stratum, ci, stratum_labels, entropy_domain, domain_labels, contingency,
                                 title):
    """Gating entropy per stratum and per domain, and the stratum x domain contingency table."""
    panels = [p for p in (entropy_stratum, entropy_domain, contingency) if p is not None]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 3.4), squeeze=False)
    it = iter(axes[0])
    if entropy_stratum is not None:
        _bars(next(it), entropy_stratum, stratum_labels, "gating entropy per stratum"
              + (" (95% bootstrap CI)" if ci is not None else ""), "nats", ci)
    if entropy_domain is not None:
        _bars(next(it), entropy_domain, domain_labels, "gating entropy per source domain", "nats", colour="tab:orange")
    if contingency is not None:
        heatmap(next(it), contingency, stratum_labels, domain_labels, "points per stratum and domain", cmap="Blues",
                fmt="{:.0f}")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def expert_geometry(mean_angle, grassmann, usage, sparsity, title):
    """Inter-expert distances between dictionary subspaces, and how much each expert is used."""
    panels = [p for p in (mean_angle, grassmann, usage) if p is not None]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 3.8), squeeze=False)
    it = iter(axes[0])
    labels = expert_labels(sparsity)
    if mean_angle is not None:
        heatmap(next(it), mean_angle, labels, labels, "mean principal angle (rad)", cmap="magma")
    if grassmann is not None:
        heatmap(next(it), grassmann, labels, labels, "Grassmann distance", cmap="magma")
    if usage is not None:
        n = len(usage)
        _bars(next(it), np.asarray(usage, dtype=np.float64), labels or [str(i) for i in range(n)],
              "expert usage (mean gating probability)", "probability", colour="tab:green")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def loss_curves(curves, title):
    """Training loss per epoch; `curves` is a list of (label, losses)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, loss in curves:
        ax.plot(np.arange(1, len(loss) + 1), loss, label=label, lw=1.3)
    if all(np.all(np.asarray(loss) > 0) for _, loss in curves):
        ax.set_yscale("log")
    return labelled(fig, ax, "epoch", "loss", title)


def recon_vs_experts(series, title):
    """Mean reconstruction error against the number of experts; `series`: (label, E, mean, spread)."""
    fig, ax = plt.subplots(figsize=(6.6, 3.8))
    for (label, experts, mean, spread), colour in zip(series, colours(len(series))):
        order = np.argsort(experts)
        x, y, e = np.asarray(experts)[order], np.asarray(mean)[order], np.asarray(spread)[order]
        ax.errorbar(x, y, yerr=e if np.any(e > 0) else None, marker="o", capsize=3, label=label, color=colour)
    ax.set_xticks(sorted({int(e) for _, experts, _, _ in series for e in experts}))
    return labelled(fig, ax, "number of experts", "mean reconstruction error", title)


def gate_ablation(groups, gates, title):
    """Reconstruction error with the learned gate and without it; `groups`: (label, {gate: (mean, spread)})."""
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(groups) + 2), 3.8))
    width = 0.8 / len(gates)
    x = np.arange(len(groups))
    for k, (gate, colour) in enumerate(zip(gates, colours(len(gates)))):
        mean = [g[1].get(gate, (np.nan, 0))[0] for g in groups]
        spread = [g[1].get(gate, (np.nan, 0))[1] for g in groups]
        ax.bar(x + (k - (len(gates) - 1) / 2) * width, mean, width, yerr=spread if any(spread) else None, capsize=3,
               label=gate, color=colour)
    ax.set_xticks(x)
    ax.set_xticklabels([g[0] for g in groups], fontsize=7, rotation=20 if len(groups) > 3 else 0)
    ax.set_ylabel("mean reconstruction error")
    ax.legend(title="gate", fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


SWEEP_PANELS = (("pca", "intrinsic dimension: PCA-75%"), ("twonn", "intrinsic dimension: TwoNN"),
                ("mle", "intrinsic dimension: MLE"), ("weighted_sparsity", "gating-weighted sparsity"))


def sweep_axis(axis_label, values, lines, title):
    """How the per-run summaries move along one sweep axis.

    `values`: the axis values in order (labels); `lines`: (label, {panel: (mean[X], spread[X])}), with NaN
    where a line has no run at a value. Spread bars are drawn where a value has several seeds.
    """
    fig, axes = plt.subplots(1, len(SWEEP_PANELS), figsize=(4.2 * len(SWEEP_PANELS), 3.6), squeeze=False)
    x = np.arange(len(values))
    palette = colours(len(lines))
    for ax, (key, name) in zip(axes[0], SWEEP_PANELS):
        for (label, data), colour in zip(lines, palette):
            mean, spread = data[key]
            ax.errorbar(x, mean, yerr=spread if np.nanmax(np.append(spread, 0)) > 0 else None, marker="o",
                        capsize=3, color=colour, label=label)
        ax.set_xticks(x)
        ax.set_xticklabels(values, fontsize=7, rotation=20 if max(len(v) for v in values) > 6 else 0)
        ax.set_xlabel(axis_label, fontsize=8)
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
