"""A grid of synthetic trainings on three hosts (tests/mpi/tiny.toml: 2 embeddings, 8 trainings,
16 analyses), against the archive of one process:
  - workers two to a host (node1, node2), one rank per train job: bit for bit (attributes
    that record when and where aside);
  - one worker per host and `[cluster] ranks_per_train_job = 2`: every training is one
    data-parallel group whose members sit on node1 and node2 (MPI collectives on the CPU, over
    TCP between the hosts). Every dataset bit for bit too: the sweep's gradient shards
    (tests/mpi/tiny.toml: grad_shards = 4), not the ranks, fix every sum."""
import h5py

import hosts
from host_runs import assert_same_archive, events, grid_sweep, ranks_that_ran, reference, run_argv, trained_ranks
from strata_test import assert_same_datasets, scratch

hosts.require()
tmp = scratch("cluster-grid")

one_rank = grid_sweep(tmp, "grid", "")
two_ranks = grid_sweep(tmp, "grid-dp", "ranks_per_train_job = 2")
single = reference(one_rank, tmp / "single.h5")

with hosts.Hosts(3) as h:
    spread = tmp / "spread.h5"
    p = h.mpirun([1, 2, 2], run_argv(one_rank, spread), timeout=120)
    assert p.returncode == 0, (p.returncode, p.stderr[-4000:])
    ran = ranks_that_ran(events(p.stdout))
    assert ran == {1, 2, 3, 4}, ran
    count = assert_same_archive(single, spread)
    print(f"2 workers on each of node1, node2: {count} datasets as one process writes them")

    grouped = tmp / "data-parallel.h5"
    p = h.mpirun([1, 1, 1], run_argv(two_ranks, grouped), timeout=120)
    assert p.returncode == 0, (p.returncode, p.stderr[-4000:])

assert trained_ranks(grouped) == [2] * 8, trained_ranks(grouped)
with h5py.File(grouped, "r") as f:
    # The group's first member (rank 1, on node1) reports each result.
    assert {int(g.attrs["rank"]) for g in f["trained"].values()} == {1}
count = assert_same_datasets(single, grouped)
print(f"data-parallel groups across node1 and node2: {count} datasets bit for bit")
print("ok")
