#!/usr/bin/env python3
"""Benchmark: one large training job, data-parallel or not. A synthetic corpus of --points x --dim
(four strata, float32 embeddings) is trained once in one process and once under `mpirun -np
RANKS+1` with `ranks_per_train_job = RANKS` (NCCL on CUDA; each rank gets its own NCCL_HOSTID, so
several ranks can share one GPU), both on --device. Prints, for each, the training job's own
seconds (its job_done event), the whole command's wall time up to that event, the device's peak
memory (nvidia-smi, sampled every 100 ms) and the final training loss. The command stops once the
training job is committed: the analyses of a million points are not what this measures. Not a test.

    python tests/bench/bench_data_parallel.py [--points 1000000] [--dim 2048] [--ranks 2]
        [--epochs 2] [--batch-size 4096] [--device cuda] [--strata build/strata]
"""
import argparse
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import h5py
import numpy as np

SOURCE = Path(__file__).resolve().parents[2]


def sweep(args):
    per = args.points // 4
    strata = "".join(f"""
[[corpus.synthetic.stratum]]
name = "s{i}"
dim = {d}
points = {per}
offset = 3.0
""" for i, d in enumerate((4, 8, 16, 32)))
    return f"""[experiment]
name = "bench-data-parallel"
seed = 3

[corpus.synthetic]
dim = {args.dim}
noise = 0.01
{strata}
[moe]
atoms = {args.atoms}
sparsity = [4, 8, 16]
strata = 4
gate_dim = 32
epochs = {args.epochs}
batch_size = {args.batch_size}
grad_shards = 4
"""


class PeakMemory:
    """The device's largest memory.used (MiB) while it runs, from nvidia-smi."""

    def __init__(self):
        self.peak, self.base = 0, None
        self.proc = None
        if shutil.which("nvidia-smi"):
            self.proc = subprocess.Popen(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits",
                                          "-lms", "100"], stdout=subprocess.PIPE, text=True)
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                v = int(line.split()[0])
            except (ValueError, IndexError):
                continue
            self.base = v if self.base is None else self.base
            self.peak = max(self.peak, v)

    def stop(self):
        if self.proc:
            self.proc.terminate()
        return (self.peak - (self.base or 0)) if self.proc else None


def run_until_trained(cmd, env, archive):
    """Runs `cmd` (strata run --log-json ...) until its training job is done; returns its numbers."""
    mem = PeakMemory()
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                         start_new_session=True)
    kinds, train = {}, None
    for line in p.stdout:
        try:
            e = json.loads(line)
        except json.JSONDecodeError:
            continue
        if e.get("event") == "job_done":
            kinds[e.get("kind")] = kinds.get(e.get("kind"), 0.0) + float(e.get("seconds", 0.0))
            if e.get("kind") == "train":
                train = float(e["seconds"])
                break
        if e.get("event") == "job_failed":
            print(line.strip(), file=sys.stderr)
    wall = time.time() - t0
    os.killpg(p.pid, signal.SIGTERM)
    p.wait()
    peak = mem.stop()
    if train is None:
        sys.exit(f"{cmd[0]}: no training job finished")
    time.sleep(1)
    loss, ranks = float("nan"), 0
    try:  # the run was stopped: its last commit may still sit in the journal, unmerged
        with h5py.File(archive, "r") as f:
            (tid,) = list(f["trained"])
            loss = float(f[f"trained/{tid}/train/loss"][()][-1])
            ranks = int(f[f"trained/{tid}"].attrs.get("ranks", 1))
    except (OSError, KeyError, ValueError) as e:
        print(f"{archive}: the trained model could not be read back ({e})", file=sys.stderr)
    return {"train_s": train, "wall_s": wall, "peak_mib": peak, "loss": loss, "ranks": ranks, "kinds": kinds}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--atoms", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=4096)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--strata", default=str(SOURCE / "build" / "strata"))
    ap.add_argument("--mpirun", default="mpirun")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-dp-"))
    path = tmp / "sweep.toml"
    path.write_text(sweep(args))
    env = dict(os.environ)
    base = [args.strata, "run", str(path), "--device", args.device, "--no-report", "--log-json"]
    one = run_until_trained(base + ["--archive", str(tmp / "one.h5")], env, tmp / "one.h5")
    print("one process:", {k: v for k, v in one.items() if k != "kinds"}, "jobs before training (s):",
          {k: round(v, 2) for k, v in one["kinds"].items() if k != "train"}, flush=True)
    for leftover in tmp.glob("one.h5*"):  # a million points take gigabytes: one archive at a time
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    wrapper = tmp / "hostid.sh"
    wrapper.write_text('#!/bin/sh\nexport NCCL_HOSTID="bench-rank-${OMPI_COMM_WORLD_RANK}"\nexec "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    (tmp / "sweep.toml").write_text(sweep(args) + f"\n[cluster]\nranks_per_train_job = {args.ranks}\nshare_gpus = true\n"
                                    "heartbeat_s = 0\n")
    env["NCCL_SOCKET_IFNAME"] = "lo"
    mpi = [args.mpirun, "--allow-run-as-root", "--oversubscribe", "-np", str(args.ranks + 1),
           "-x", "NCCL_SOCKET_IFNAME=lo", "-x", "LD_LIBRARY_PATH", str(wrapper)]
    many = run_until_trained(mpi + base + ["--archive", str(tmp / "dp.h5")], env, tmp / "dp.h5")
    print(f"{args.points} x {args.dim}, atoms {args.atoms}, 3 experts, {args.epochs} epochs, batch {args.batch_size}, "
          f"device {args.device}")
    print(f"{'':24s}{'train job s':>12s}{'wall to trained s':>19s}{'peak MiB':>10s}{'final loss':>12s}")
    for name, r in (("one process", one), (f"{many['ranks']} ranks (mpirun)", many)):
        peak = "—" if r["peak_mib"] is None else str(r["peak_mib"])
        print(f"{name:24s}{r['train_s']:12.2f}{r['wall_s']:19.2f}{peak:>10s}{r['loss']:12.6g}")
    print("jobs before training (s):", {k: round(v, 2) for k, v in one["kinds"].items() if k != "train"})
    print(f"speed-up of the training job: {one['train_s'] / many['train_s']:.2f}x; "
          f"loss ratio {many['loss'] / one['loss']:.6f}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
