#!/usr/bin/env python3
"""Benchmark: the orchestration overhead of a sweep of about 200 tiny jobs (a few ms each) under
`mpirun -np 2` (rank 0 coordinates and commits, rank 1 computes) and in one process. Prints, for
each, the wall time, the sum of the jobs' own times (the `seconds` attribute every job leaves in
the archive) and the overhead (wall x workers - sum) / sum, where workers = np - 1 under mpirun
(rank 0 only coordinates) and 1 in one process. Not a test.

    python tests/bench/bench_orchestration.py [--np 2] [--seeds 10] [--repeat 3] [--strata build/strata]

Two walls are reported: the whole command (process start-up, MPI start-up and shutdown, archive
creation, the closing summary) and the scheduler's own, from its `run_finished` event (the job
graph built, every result committed). The job sweep: a synthetic corpus of 120 points in 16
dimensions, its embedding and Gaussian null, atoms {8, 12} x `--seeds` seeds of 1-epoch training
each, stratum counts {2, 3, 4, 5} of analysis each: 3 + 40 * `--seeds` / 10 * 5 jobs.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py

SOURCE = Path(__file__).resolve().parents[2]

SWEEP = """[experiment]
name = "bench-orchestration"
seed = 5

[corpus.synthetic]
dim = 16
noise = 0.01
[[corpus.synthetic.stratum]]
name = "a"
dim = 2
points = 60
offset = 4.0
[[corpus.synthetic.stratum]]
name = "b"
kind = "sphere"
dim = 3
points = 60
offset = 4.0

[moe]
atoms = [8, 12]
sparsity = [2, 4]
strata = [2, 3, 4, 5]
seeds = {seeds}
gate_dim = 8
epochs = 1
batch_size = 64

[analysis]
null_model = true
kmeans_restarts = 1
mle_k = 5
bootstrap = 0
"""


def job_seconds(archive):
    """{object: seconds} of every job the archive holds."""
    out = {}
    with h5py.File(archive, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Group) and "job_id" in obj.attrs and "seconds" in obj.attrs:
                out[name] = float(obj.attrs["seconds"])
        f.visititems(visit)
    return out


def run(binary, sweep, archive, np_, device):
    cmd = []
    if np_:
        cmd = ["mpirun", "--oversubscribe", "-np", str(np_), "--mca", "btl", "self,vader"]
        if os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
    cmd += [binary, "run", str(sweep), "--archive", str(archive), "--threads", "1", "--no-report", "--log-json",
            "--device", device]
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    events = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    finished = [e for e in events if e["event"] == "run_finished"]
    if not finished:
        sys.exit(f"no run_finished event:\n{p.stdout[-3000:]}")
    jobs = job_seconds(archive)
    if len(jobs) != finished[0]["computed"]:
        sys.exit(f"{len(jobs)} jobs with seconds in the archive, {finished[0]['computed']} computed")
    return wall, finished[0]["seconds"], jobs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--np", type=int, default=2, help="MPI ranks (one coordinator, the rest work)")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side; the fastest is reported")
    ap.add_argument("--device", default="cpu", help="where the jobs run (cpu: any number of workers per node)")
    ap.add_argument("--strata", default=os.environ.get("STRATA_BIN", str(SOURCE / "build" / "strata")))
    args = ap.parse_args()
    if shutil.which("mpirun") is None:
        sys.exit("mpirun not found")

    tmp = Path(tempfile.mkdtemp(prefix="bench-orchestration-"))
    sweep = tmp / "sweep.toml"
    sweep.write_text(SWEEP.format(seeds=list(range(args.seeds))))
    print(f"{os.cpu_count()} CPU cores; sweep in {tmp}")
    print(f"{'side':<16} {'jobs':>5} {'wall s':>8} {'sched s':>8} {'sum s':>8} {'mean ms':>8} "
          f"{'overhead':>9} {'sched ovh':>9}")
    for label, np_ in ((f"mpirun -np {args.np}", args.np), ("one process", None)):
        workers = np_ - 1 if np_ else 1
        best = None
        for i in range(args.repeat):
            archive = tmp / f"{'mpi' if np_ else 'plain'}-{i}.h5"
            wall, sched, jobs = run(args.strata, sweep, archive, np_, args.device)
            if best is None or wall < best[0]:
                best = (wall, sched, jobs)
        wall, sched, jobs = best
        total = sum(jobs.values())
        # With several workers, the time they had (wall x workers) against the time jobs took.
        print(f"{label:<16} {len(jobs):>5} {wall:>8.3f} {sched:>8.3f} {total:>8.3f} "
              f"{1e3 * total / len(jobs):>8.2f} {(wall * workers - total) / total:>8.1%} "
              f"{(sched * workers - total) / total:>8.1%}")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
