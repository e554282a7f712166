"""Strata archives as pandas tables and xarray arrays.

    import strata_results as sr
    a = sr.open("results/quickstart.h5")
    a.runs                          # DataFrame: one row per run
    a.strata(a.runs.run[0])         # DataFrame: one row per stratum of that run
    a.gating(a.runs.run[0])         # xarray DataArray point x expert

`python -m strata_results export ARCHIVE -o DIR [--format csv|parquet]` writes the tables as files.
"""
from .archive import Archive, open  # noqa: A004
from .catalog import NotAnArchive
from .export import export

__version__ = "1.0.0"
__all__ = ["Archive", "NotAnArchive", "export", "open"]
