"""The archive's tables as files: CSV (pandas) or Parquet (pyarrow)."""
import json
from pathlib import Path

import pandas as pd

FORMATS = ("csv", "parquet")


class ExportError(Exception):
    """The export cannot be written (unknown format, missing library, unwritable folder)."""


def file_form(df):
    """A table as it is written to a file: tuple cells (sparsity sets) as JSON text, so that every
    column has one type in CSV and Parquet alike."""
    out = df.copy()
    for name in out.columns:
        if out[name].dtype == object and out[name].map(lambda v: isinstance(v, tuple)).any():
            out[name] = out[name].map(lambda v: json.dumps(list(v)) if isinstance(v, tuple) else v)
    return out


def tables_of(archive):
    """{file name: DataFrame} of everything exported: runs, trained models, embeddings, the corpus,
    every run's strata (one table, a `run` column first) and every run's stratum of each point."""
    out = {"runs": archive.runs, "trained": archive.trained, "embeddings": archive.embeddings,
           "corpus": archive.corpus}
    done = [r for r in archive.catalog.runs if r.done]
    strata = [archive.strata(r.id).assign(run=r.id) for r in done]
    if strata:
        df = pd.concat(strata, ignore_index=True)
        out["strata"] = df[["run"] + [c for c in df.columns if c != "run"]]
    labels = {r.id: archive.catalog.get(f"{r.path}/out/strata") for r in done}
    labels = {k: v for k, v in labels.items() if v is not None and len(v) == len(archive.corpus)}
    if labels:
        out["assignments"] = pd.DataFrame(labels)
    return out


def write(df, path, fmt):
    df = file_form(df)
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False, engine="pyarrow")


def export(archive, out_dir, fmt="csv"):
    """Writes the archive's tables into out_dir as <table>.csv or <table>.parquet; returns the paths."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (csv or parquet)")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ExportError("Parquet needs pyarrow (pip install pyarrow)") from None
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"{out}: cannot create the folder ({e.strerror})") from None
    written = []
    for name, df in tables_of(archive).items():
        path = out / f"{name}.{fmt}"
        try:
            write(df, path, fmt)
        except OSError as e:
            raise ExportError(f"{path}: cannot write ({e.strerror or e})") from None
        written.append(path)
    return written
