#!/usr/bin/env python3
"""How long the report takes on a big sweep and how big its page is.

    bench_report.py [--archive A.h5 | --sweep [--strata build/strata]] [--keep DIR]

Without --archive, writes a 500-run archive (5 atoms x 5 sparsity sets x 5 seeds x 4 stratum
counts): with --sweep by running such a sweep with `strata run` (one epoch per model, the
quickstart's 1000 points), else with make_sweep_archive.py (random numbers, 3000 points). Prints the wall and CPU seconds of reading the runs
table with strata_results and of `results/report.py` (a fresh process each), and the size of the
page and of everything the report wrote.
"""
import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parents[1] / "results"
SOURCE = HERE.parents[1]

# The quickstart's corpus and model, 500 runs of one epoch each.
SWEEP_GRID = """
[moe]
atoms = [8, 16, 24, 32, 48]
sparsity_sets = [[4, 8, 12], [4, 8, 12, 16], [4, 8, 12, 16, 20], [8, 16, 24], [8, 12, 16, 20, 24, 28, 32]]
strata = [3, 5, 7, 9]
seeds = [0, 1, 2, 3, 4]
lista_steps = 3
gate_dim = 16
epochs = 1
batch_size = 256
lr = 3e-3

[analysis]
kmeans_restarts = 2
mle_k = 10
bootstrap = 0
"""


def write_sweep(path):
    """The quickstart's sweep with the [moe] and [analysis] tables of SWEEP_GRID."""
    text = (SOURCE / "sweeps" / "quickstart.toml").read_text()
    text = text[: text.index("[moe]")] + SWEEP_GRID
    path.write_text(text.replace('name = "quickstart"', 'name = "bench-report"'))


def timed(cmd):
    """(wall seconds, CPU seconds of the child) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def size_mb(path):
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archive")
    ap.add_argument("--sweep", action="store_true", help="compute the 500-run archive with strata run")
    ap.add_argument("--strata", default=str(SOURCE / "build" / "strata"))
    ap.add_argument("--keep", help="write the report here (default: a temporary folder)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-report-"))
    archive = Path(args.archive) if args.archive else work / "sweep.h5"
    if not args.archive and args.sweep:
        sweep = work / "sweep.toml"
        write_sweep(sweep)
        wall, cpu = timed([args.strata, "run", str(sweep), "--archive", str(archive), "--no-report", "--quiet"])
        print(f"strata run: {wall:.1f} s wall, {cpu:.1f} s CPU ({archive})")
    elif not args.archive:
        subprocess.run([sys.executable, str(HERE / "make_sweep_archive.py"), str(archive)], check=True)
    out = Path(args.keep) if args.keep else work / "report"
    wall, cpu = timed([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import strata_results as sr;"
                       " print(len(sr.open(sys.argv[2]).runs))", str(RESULTS), str(archive)])
    print(f"runs table: {wall:.1f} s wall, {cpu:.1f} s CPU")
    wall, cpu = timed([sys.executable, str(RESULTS / "report.py"), str(archive), "-o", str(out)])
    print(f"report: {wall:.1f} s wall, {cpu:.1f} s CPU; index.html {size_mb(out / 'index.html'):.2f} MB, "
          f"everything {size_mb(out):.2f} MB ({out})")


if __name__ == "__main__":
    main()
