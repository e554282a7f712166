"""Data-parallel training over NCCL, on the GPU: `mpirun -np 3` with `ranks_per_train_job = 2`
(two workers, one NCCL group) against one process on the same GPU, for tests/mpi/tiny.toml
(4 gradient shards). One GPU is enough: each rank gets its own NCCL_HOSTID, so NCCL takes the
two ranks for two hosts and talks over the loopback interface.

The two runs compute every shard's gradient with the same kernels on the same device and add
them in the same order; what may differ is only what CUDA itself does not make deterministic
(atomics in a few backward kernels). So the trained models must agree within float32 round-off
at the end of training (rtol 1e-4), and the corpus and embeddings bit for bit. Skipped (77)
without a CUDA device or mpirun."""
import os
import stat
import sys

import numpy as np

from strata_test import BIN, SOURCE, datasets, mpirun_or_skip, mpirun_prefix, mpi_environment, scratch, strata

try:
    import torch
    has_cuda = torch.cuda.is_available()
except ImportError:
    has_cuda = False
if not has_cuda:
    print("no CUDA device")
    sys.exit(77)
mpirun_or_skip()
import subprocess  # noqa: E402

tmp = scratch("gpu-nccl")
sweep = tmp / "tiny.toml"
sweep.write_text((SOURCE / "tests" / "mpi" / "tiny.toml").read_text() +
                 "\n[cluster]\nranks_per_train_job = 2\nshare_gpus = true\nheartbeat_s = 0\n")
# One NCCL "host" per rank.
wrapper = tmp / "hostid.sh"
wrapper.write_text('#!/bin/sh\nexport NCCL_HOSTID="strata-rank-${OMPI_COMM_WORLD_RANK}"\nexec "$@"\n')
wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)

single = tmp / "single.h5"
strata("run", sweep, "--archive", single, "--device", "cuda", "--no-report")
group = tmp / "nccl.h5"
cmd = mpirun_prefix(3) + ["-x", "NCCL_SOCKET_IFNAME=lo", str(wrapper), BIN, "run", str(sweep),
                          "--archive", str(group), "--device", "cuda", "--no-report"]
p = subprocess.run(cmd, capture_output=True, text=True, env=mpi_environment({"NCCL_SOCKET_IFNAME": "lo"}),
                   timeout=300)
assert p.returncode == 0, (p.returncode, p.stdout[-3000:], p.stderr[-3000:])

import h5py  # noqa: E402

with h5py.File(group, "r") as f:
    ranks = {name: int(g.attrs["ranks"]) for name, g in f["trained"].items()}
assert set(ranks.values()) == {2}, ranks

da, db = datasets(single), datasets(group)
assert sorted(da) == sorted(db), sorted(set(da) ^ set(db))
worst = 0.0
for k in da:
    x, y = np.asarray(da[k]), np.asarray(db[k])
    if k.startswith(("corpus", "embeddings")):  # computed before any training: bit for bit
        same = np.array_equal(x, y, equal_nan=True) if x.dtype.kind in "fiub" else \
            np.array_equal(np.asarray(x, dtype=object), np.asarray(y, dtype=object))
        assert same, k
    elif k.startswith("trained/") and "/params/" in k and x.dtype.kind == "f" and x.size:
        assert np.allclose(x, y, rtol=1e-4, atol=1e-5, equal_nan=True), (k, np.nanmax(np.abs(x - y)))
        worst = max(worst, float(np.nanmax(np.abs(x - y))))
loss = {k: (da[k][-1], db[k][-1]) for k in da if k.endswith("train/loss")}
for k, (a, b) in loss.items():
    assert np.isclose(a, b, rtol=1e-4), (k, a, b)
print(f"NCCL, 2 ranks on one GPU: {len(ranks)} models; largest parameter difference {worst:.3g}; "
      f"final losses {', '.join(f'{a:.6g} vs {b:.6g}' for a, b in loss.values())}")
print("ok")
