"""An open archive as tables: what a notebook reads.

Opening reads attributes only; each table is built the first time it is asked for and kept,
and arrays (embeddings, gating, trained parameters) are read when asked for.
"""
import functools

import h5py
import numpy as np
import pandas as pd

from . import tables
from .catalog import Catalog
from .h5 import Group, child


class Archive:
    """A strata archive opened for reading (`strata_results.open(path)`); a context manager."""

    def __init__(self, path):
        self.catalog = Catalog(path)
        self.path = self.catalog.path
        self.file = self.catalog.file

    def close(self):
        self.catalog.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        c = self.catalog
        return (f"<strata_results.Archive {self.path}: {len(c.embeddings)} embeddings, {len(c.trained)} trained "
                f"models, {len(c.runs)} runs>")

    @property
    def root(self):
        """The root attributes: program, version, creation time, sweep files."""
        return dict(self.catalog.root)

    # --- tables ----------------------------------------------------------------------------

    @functools.cached_property
    def runs(self):
        """One row per run: its resolved configuration, status and times, and every scalar metric
        (scalar datasets of its analysis, size-weighted means `dim_*` of each intrinsic dimension and
        of the weighted sparsity, `spearman_dim_*` against the truth of a synthetic corpus, and its
        trained model's attributes and last loss)."""
        return tables.runs_table(self.catalog)

    @functools.cached_property
    def trained(self):
        """One row per trained model: configuration, status, attributes and scalar metrics."""
        return tables.trained_table(self.catalog)

    @functools.cached_property
    def embeddings(self):
        """One row per embedding: rows, width, status and attributes."""
        return tables.embeddings_table(self.catalog)

    @functools.cached_property
    def corpus(self):
        """One row per corpus row: text, source, id, label, and `truth` (the true stratum) where an
        embedding of a synthetic corpus records it."""
        c = self.catalog
        columns = {}
        for name in ("text", "source", "id", "label"):
            value = c.get(f"corpus/{name}")
            if value is not None:
                columns[name] = value
        for e in c.embeddings:
            truth = c.get(f"{e.path}/truth")
            if truth is not None and "truth" not in columns:
                columns["truth"] = truth
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"{self.path}: /corpus datasets differ in length ({sorted(lengths)})")
        return pd.DataFrame(columns)

    def strata(self, run):
        """One row per stratum of a run: `size`, `dim_<estimator>` for every analysis/dims/* with
        `_lo`/`_hi` from analysis/ci/* where present, `weighted_sparsity`, `entropy`, every other
        per-stratum dataset (flags and the like) under its path, and `points_<source>`."""
        return tables.strata_table(self.catalog, self._run(run), self.catalog.source_names())

    def gating(self, run):
        """The gate probabilities of a run's trained model as an xarray DataArray point x expert, with
        text, source, id, label and stratum (the run's) as point coordinates and each expert's sparsity."""
        try:
            import xarray as xr
        except ImportError:
            raise ImportError("Archive.gating needs xarray (pip install xarray); "
                              "Archive.gating_frame gives the same numbers as a DataFrame") from None
        r = self._run(run)
        values, coords = self._gating_parts(r)
        point_coords = {k: ("point", v) for k, v in coords.items() if k not in ("expert", "sparsity")}
        da = xr.DataArray(values, dims=("point", "expert"), name="gating",
                          coords={"point": np.arange(values.shape[0]), "expert": np.arange(values.shape[1]),
                                  **point_coords})
        if "sparsity" in coords:
            da = da.assign_coords(sparsity=("expert", coords["sparsity"]))
        da.attrs.update(run=r.id, embedding=r.embedding, train_id=r.train_id)
        return da

    def gating_frame(self, run):
        """The gate probabilities of a run as a DataFrame: one row per point, one column per expert
        (`expert_0`, ...), with the point's text, source, id, label and stratum."""
        r = self._run(run)
        values, coords = self._gating_parts(r)
        df = pd.DataFrame({k: v for k, v in coords.items() if k not in ("expert", "sparsity")})
        for e in range(values.shape[1]):
            df[f"expert_{e}"] = values[:, e]
        return df

    def _gating_parts(self, r):
        c = self.catalog
        gating = c.get(f"{r.path}/out/gating")
        if gating is None and r.trained is not None:
            gating = c.get(f"{r.trained.path}/out/gating")
        if gating is None:
            raise KeyError(f"{self.path}: run {r.id} has no out/gating ({r.status})")
        gating = np.asarray(gating)
        coords = {}
        corpus = self.corpus
        if len(corpus) == gating.shape[0]:
            for name in corpus.columns:
                coords[name] = corpus[name].to_numpy()
        strata = c.get(f"{r.path}/out/strata")
        if strata is not None and len(strata) == gating.shape[0]:
            coords["stratum"] = np.asarray(strata)
        selected = c.get(f"{r.trained.path}/out/selected") if r.trained is not None else None
        if selected is not None and len(selected) == gating.shape[0]:
            coords["selected"] = np.asarray(selected)
        sparsity = c.get(f"{r.trained.path}/sparsity") if r.trained is not None else None
        if sparsity is not None and len(sparsity) == gating.shape[1]:
            coords["sparsity"] = np.asarray(sparsity)
        return gating, coords

    # --- arrays ---------------------------------------------------------------------------

    def embedding(self, name):
        """The vectors of an embedding, [N, L] float32 (read now; `group("embeddings/NAME").dataset("data")`
        slices a large one without reading it whole)."""
        data = child(self.file, f"embeddings/{name}/data")
        if not isinstance(data, h5py.Dataset):
            known = ", ".join(e.name for e in self.catalog.embeddings) or "none"
            raise KeyError(f"{self.path}: no embedding {name!r} (embeddings: {known})")
        return data[()]

    def trained_model(self, train_id):
        """A trained model's datasets (params/*, train/loss, out/*, analysis/*), each read when looked up,
        with its attributes (`.attrs`) and configuration (`.config`)."""
        t = self.catalog.trained.get(train_id)
        if t is None:
            raise KeyError(f"{self.path}: no trained model {train_id!r}")
        return Group(self.file[t.path], config=t.config)

    @property
    def geometries(self):
        """Names of the groups under /geometry (empty when the archive has none)."""
        g = child(self.file, "geometry")
        return sorted(g) if isinstance(g, h5py.Group) else []

    def geometry(self, name):
        """Whatever /geometry/<name>/ holds, each dataset read when looked up; empty when absent."""
        g = child(self.file, f"geometry/{name}")
        return Group(g if isinstance(g, h5py.Group) else None)

    def group(self, path):
        """Any group of the archive as a Group (the soft links inside it not followed); empty when absent."""
        g = child(self.file, path)
        return Group(g if isinstance(g, h5py.Group) else None)

    def _run(self, run):
        """A run's record from its id (or a row of `runs`)."""
        if isinstance(run, pd.Series):
            run = run["run"]
        for r in self.catalog.runs:
            if r.id == run:
                return r
        raise KeyError(f"{self.path}: no run {run!r}")


def open(path):  # noqa: A001  (the package's entry point reads as sr.open)
    """Opens a strata archive for reading; raises NotAnArchive for anything else."""
    return Archive(path)
