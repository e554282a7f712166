"""cluster/slurm.sbatch under a real SLURM (Debian's slurm-wlm and munge; tests/cluster/
slurm_hosts.py): slurmctld on node0, one slurmd on each of node0..node2, a generated
slurm.conf. The job asks for 3 nodes, one task each (rank 0, the coordinator, on node0; the
workers on node1 and node2) and no GPU (`--gres=none` overrides the script's GPU default):
1. `sbatch cluster/slurm.sbatch SWEEP` (srun launches the ranks through PMIx) finishes with
   the single-process archive, bit for bit (attributes that record when and where aside);
2. a longer sweep, scancelled once some results are in the journal, leaves every file it
   wrote readable; resubmitting the same command line (this time with STRATA_LAUNCHER=mpirun:
   OpenMPI's mpirun inside the allocation) resumes it, recomputes only what was missing and
   ends with the single-process archive."""
import re

import slurm_hosts
from crash_support import assert_readable, left_behind
from host_runs import JOBS, assert_same_archive, grid_sweep, journal_entries, reference, wait_until
from hosts import IFACE
from strata_test import BIN, SOURCE, scratch

slurm_hosts.require()
tmp = scratch("cluster-slurm")
SCRIPT = SOURCE / "cluster" / "slurm.sbatch"

quick = grid_sweep(tmp, "grid", "")
long = grid_sweep(tmp, "grid-long", "commit_interval_s = 0", epochs=40, points=150)
refs = {s: reference(s, tmp / f"single-{s.stem}.h5") for s in (quick, long)}

# What a site puts in its job environment for TCP between the nodes (slurm.sbatch lists it).
fabric = {"STRATA_BIN": BIN, "STRATA_SRUN_MPI": "pmix", "OMPI_MCA_btl": "self,tcp",
          "OMPI_MCA_btl_tcp_if_include": IFACE, "OMPI_MCA_oob_tcp_if_include": IFACE}


def submit(s, sweep, archive, env=None):
    args = ["--nodes=3", "--ntasks-per-node=1", "--cpus-per-task=1", "--gres=none",
            f"--output={tmp}/slurm-%j.out", SCRIPT, sweep, "--archive", archive, "--threads", "1", "--no-report"]
    return s.sbatch(args, env=dict(fabric, **(env or {})))


def output(job):
    return (tmp / f"slurm-{job}.out").read_text()


with slurm_hosts.SlurmHosts(3) as s:
    # 1. A whole sweep.
    archive = tmp / "quick.h5"
    job = submit(s, quick, archive)
    state = s.wait(job, timeout=120)
    assert state == "COMPLETED", (state, output(job)[-3000:])
    assert "3 node(s), 3 task(s)" in output(job), output(job)[-2000:]
    count = assert_same_archive(refs[quick], archive)
    print(f"sbatch cluster/slurm.sbatch on 3 nodes (srun, PMIx): {count} datasets as one process writes them")

    # 2. Cancelled in mid-run, resubmitted.
    archive = tmp / "long.h5"
    job = submit(s, long, archive)
    wait_until(lambda: journal_entries(archive) >= 4 or s.job_state(job) in s.ENDED, 90, "a training in the journal")
    assert s.job_state(job) == "RUNNING", (s.job_state(job), output(job)[-3000:])
    s.scancel(job)
    state = s.wait(job, timeout=60)
    assert state == "CANCELLED", (state, output(job)[-3000:])
    assert_readable(left_behind(tmp))
    kept = journal_entries(archive)
    assert 4 <= kept < JOBS, kept
    print(f"scancel in mid-run: {kept} results in the journal, every file readable")

    job = submit(s, long, archive, env={"STRATA_LAUNCHER": "mpirun", "OMPI_ALLOW_RUN_AS_ROOT": "1",
                                        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"})
    state = s.wait(job, timeout=120)
    assert state == "COMPLETED", (state, output(job)[-3000:])

m = re.search(r"(\d+) computed, (\d+) already in the archive, 0 failed", output(job))
assert m, output(job)[-2000:]
assert int(m.group(2)) >= kept, (m.group(0), kept)
count = assert_same_archive(refs[long], archive)
print(f"resubmitted (mpirun in the allocation): {m.group(0)}; {count} datasets as one process writes them")
print("ok")
