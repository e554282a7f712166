"""The jobs of a strata archive as plain Python records: what `Archive` builds its tables on.

Only attributes are read up front (cheap even for sweeps of thousands of runs); datasets are
read on demand with `Catalog.get`, which answers None for anything missing so that every
reader can say "not in the archive" instead of failing.
"""
import functools
import json
from dataclasses import dataclass, field

import h5py
import numpy as np

from .h5 import as_text, child, plain, read

SUPPORTED_FORMAT = 2

# Keys of a job's configuration that identify it rather than set it.
IDENTITY_KEYS = {"embed", "embedding", "train", "strata_job", "format", "corpus", "name"}
# Analysis settings; in a run's stored configuration they overwrite same-named training keys
# ("seed", "pca_dim"), so a run's settings are rebuilt from its trained model's configuration.
ANALYSIS_KEYS = ("strata", "strata_on", "pca_dim", "kmeans_restarts", "variance_fraction", "mle_k", "bootstrap",
                 "seed")
ANALYSIS_RENAMES = {"pca_dim": "analysis_pca_dim", "seed": "analysis_seed"}


class NotAnArchive(Exception):
    """The file given is not a strata archive this package can read."""


def setting_text(value):
    """One configuration value as a short label (lists joined by commas)."""
    if isinstance(value, (list, tuple)):
        return ",".join(setting_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass
class Job:
    """One object of the archive written by a job: a corpus, embedding, trained model or run."""
    path: str
    status: str
    error: str
    config: dict
    attrs: dict = field(default_factory=dict)

    @property
    def id(self):
        return self.path.rsplit("/", 1)[-1]

    @property
    def done(self):
        return self.status == "done"


@dataclass
class Embedding(Job):
    shape: tuple = None

    @property
    def name(self):
        return self.id

    @property
    def null_of(self):
        """The embedding this one is the Gaussian null model of, or None."""
        return self.name[: -len(".null")] if self.name.endswith(".null") else None


class _OfEmbedding:
    """A job made from one embedding (a trained model, a run)."""

    @property
    def embedding(self):
        return self.attrs.get("embedding") or self.config.get("embedding", "?")


@dataclass
class Trained(_OfEmbedding, Job):
    @property
    def preset(self):
        return self.config.get("preset", "?")

    @property
    def sparsity(self):
        return list(self.config.get("sparsity", []))

    @property
    def settings(self):
        """What the model was trained with, without what identifies it."""
        return {k: v for k, v in self.config.items() if k not in IDENTITY_KEYS}


@dataclass
class Run(_OfEmbedding, Job):
    trained: Trained = None

    @property
    def train_id(self):
        return self.attrs.get("train_id") or self.config.get("train", "")

    @property
    def preset(self):
        return self.settings.get("preset", "?")

    @property
    def strata(self):
        return int(self.attrs.get("strata") or self.config.get("strata", 0) or 0)

    @property
    def settings(self):
        """Training settings (from the trained model) plus the analysis settings of this run."""
        base = dict(self.trained.settings) if self.trained else {
            k: v for k, v in self.config.items() if k not in IDENTITY_KEYS and k not in ANALYSIS_KEYS}
        for k in ANALYSIS_KEYS:
            if k in self.config:
                base[ANALYSIS_RENAMES.get(k, k)] = self.config[k]
        return base


def _config(group):
    raw = group.attrs.get("config")
    if raw is None:
        return {}
    try:
        value = json.loads(as_text(raw))
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def _job(cls, group, **extra):
    attrs = {k: plain(v) for k, v in group.attrs.items() if k != "config"}
    return cls(path=group.name, status=attrs.get("status", "unfinished"), error=attrs.get("error", ""),
               config=_config(group), attrs=attrs, **extra)


class Catalog:
    """An open strata archive: its provenance, its jobs as records, and datasets on demand."""

    def __init__(self, path):
        self.path = str(path)
        try:
            self.file = h5py.File(self.path, "r")
        except (OSError, ValueError) as e:
            raise NotAnArchive(f"{self.path}: not a strata archive (not a readable HDF5 file: {e})") from None
        self.root = {k: plain(v) for k, v in self.file.attrs.items()}
        self._check_format()
        self.corpus = _job(Job, self.file["corpus"]) if "corpus" in self.file else None
        self.embeddings = self._embeddings()
        self.trained = {t.id: t for t in self._children("trained", Trained)}
        # The strata of an embedding, shared by its runs (strata_on = "embeddings"): each run's
        # analysis/ links what it holds.
        self.strata = {s.id: s for s in self._children("strata", Job)}
        self.runs = self._children("runs", Run)
        for r in self.runs:
            r.trained = self.trained.get(r.train_id)
        for job in [*self.embeddings, *self.trained.values(), *self.runs]:
            self._mark_stale(job)

    def close(self):
        self.file.close()

    def _check_format(self):
        version = self.root.get("format_version")
        if version is None or self.root.get("program", "strata") != "strata":
            self.close()
            raise NotAnArchive(f"{self.path}: not a strata archive (HDF5 file without the format_version attribute)")
        if int(version) > SUPPORTED_FORMAT:
            self.close()
            raise NotAnArchive(f"{self.path}: archive format {version} is newer than this package reads "
                               f"({SUPPORTED_FORMAT}); read it with the strata_results of the strata that wrote it")

    def _mark_stale(self, job):
        """A result made from an input that was computed again since (its `input_jobs` name
        another job than the input holds now) reads as status "stale", the reason as its error."""
        if job.status != "done":
            return
        try:
            inputs = json.loads(as_text(job.attrs.get("input_jobs") or "{}"))
        except (ValueError, TypeError):
            return
        for obj, jid in (inputs.items() if isinstance(inputs, dict) else ()):
            group = self.file.get(obj)
            now = plain(group.attrs.get("job_id")) if isinstance(group, h5py.Group) else None
            if now != jid:
                job.status = "stale"
                job.error = f"made from {obj} (job {jid}), which now holds job {now or 'none'}"
                return

    def _children(self, name, cls):
        if name not in self.file:
            return []
        group = self.file[name]
        return [_job(cls, group[k]) for k in sorted(group) if isinstance(group.get(k), h5py.Group)]

    def _embeddings(self):
        out = []
        for e in self._children("embeddings", Embedding):
            data = self.file[e.path].get("data")
            e.shape = tuple(data.shape) if isinstance(data, h5py.Dataset) else None
            out.append(e)
        return out

    def get(self, path):
        """A dataset as a numpy array (strings as a list of str), or None when absent or dangling."""
        obj = child(self.file, path)
        if not isinstance(obj, h5py.Dataset):
            return None
        value = read(obj)
        return [value] if isinstance(value, str) else value

    # --- the corpus -----------------------------------------------------------------------

    def corpus_rows(self):
        """Rows of the corpus, or None without one."""
        text = self.file.get("corpus/text")
        return text.shape[0] if isinstance(text, h5py.Dataset) else None

    @functools.cached_property
    def _sources(self):
        return self.get("corpus/source")

    @functools.cached_property
    def _source_names(self):
        names = self.get("corpus/source_names")
        if names:
            return names
        return sorted(set(self._sources)) if self._sources else []

    def source_names(self):
        """The corpus's sources in the order of the per-domain analyses."""
        return list(self._source_names)

    @functools.cached_property
    def _domain_index(self):
        if self._sources is None:
            return None
        lookup = {name: i for i, name in enumerate(self._source_names)}
        return np.array([lookup.get(s, -1) for s in self._sources], dtype=np.int64)

    def domain_index(self):
        """Per corpus row, the index of its source in `source_names()` (None without a corpus)."""
        return self._domain_index

    # --- groupings ------------------------------------------------------------------------

    def embedding_order(self):
        """Embedding names with every null model right after the embedding it mirrors."""
        names = [e.name for e in self.embeddings]
        for r in self.runs:
            if r.embedding not in names:
                names.append(r.embedding)
        real = [n for n in names if not n.endswith(".null")]
        ordered = []
        for n in real:
            ordered.append(n)
            if n + ".null" in names:
                ordered.append(n + ".null")
        ordered += [n for n in names if n not in ordered]
        return ordered

    def presets(self):
        return sorted({t.preset for t in self.trained.values()} | {r.preset for r in self.runs if r.config})

    def failed(self):
        """Every job object that did not finish: (path, status, error)."""
        jobs = ([self.corpus] if self.corpus else []) + self.embeddings + list(self.trained.values()) \
            + list(self.strata.values()) + self.runs
        return [j for j in jobs if not j.done]
