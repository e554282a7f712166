"""The MPI layer (cluster/mpi_comm.h, mpi_group.h) under mpirun with 1, 2, 3 and 4 ranks.

Runs tests/tools/cluster_selftest, which writes what each rank saw, and checks it against
values computed here: allreduce sums (float, double, int64), broadcasts, sub-groups (by
split, and made by their members alone), a chunked ring exchange of ~10 MB payloads in
64 KiB chunks (by SHA-256), any-source receives and message order, node-local ranks.
Exit 77 when mpirun is missing.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

CHUNK_BYTES = 64 << 10
PAYLOAD_BYTES = 10_000_000
RANK_COUNTS = (1, 2, 3, 4)


def mpirun_command(n, program):
    cmd = ["mpirun", "--oversubscribe", "-np", str(n)]
    if os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    # Shared memory only: no network transports to probe (quiet and fast in containers).
    cmd += ["--mca", "pml", "ob1", "--mca", "btl", "self,vader"]
    return cmd + program


def mpi_env():
    env = dict(os.environ)
    env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
    return env


def payload_of(rank, n):
    """The bytes cluster_selftest's payload_of(rank, n) makes."""
    u = np.uint64
    i = np.arange(n, dtype=u)
    return ((i * u(131) + (i >> u(11)) * u(7) + u(rank * 29)) % u(251)).astype(np.uint8).tobytes()


def payload_size_of(rank):
    return PAYLOAD_BYTES + rank * 12345 + 1


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def check_allreduce(results):
    for kind, rtol in (("float", 1e-5), ("double", 1e-12)):
        dtype = np.float32 if kind == "float" else np.float64
        total = np.sum([np.asarray(r["allreduce"][kind + "_in"], dtype=np.float64) for r in results], axis=0)
        for r in results:
            out = np.asarray(r["allreduce"][kind + "_out"], dtype=dtype)
            expect(np.allclose(out, total, rtol=rtol, atol=rtol), f"{kind} allreduce on rank {r['rank']}")
            # Data-parallel replicas must not drift apart: every rank gets the same bits.
            expect(np.array_equal(out, np.asarray(results[0]["allreduce"][kind + "_out"], dtype=dtype)),
                   f"{kind} allreduce differs between rank 0 and rank {r['rank']}")
    total = sum(np.asarray(r["allreduce"]["int64_in"], dtype=np.int64) for r in results)
    for r in results:
        expect(np.array_equal(np.asarray(r["allreduce"]["int64_out"], dtype=np.int64), total),
               f"int64 allreduce on rank {r['rank']}")
        expect(r["allreduce"]["backend"] == "mpi", "MpiGroup backend name")


def check_broadcast(results, n):
    root = n - 1
    want = (np.arange(3000, dtype=np.int64) * 7 + root).tolist()
    digest = hashlib.sha256(payload_of(root, 100_003)).hexdigest()
    for r in results:
        b = r["broadcast"]
        expect(b["root"] == root and b["tensor"] == want, f"tensor broadcast on rank {r['rank']}")
        expect(b["bytes_size"] == 100_003 and b["bytes_sha256"] == digest, f"byte broadcast on rank {r['rank']}")


def check_split(results, n):
    for r in results:
        s, w = r["split"], r["rank"]
        members = [k for k in range(n) if k % 2 == w % 2]
        ordered = sorted(members, reverse=True)  # key = -world rank
        expect(s["size"] == len(members), f"sub-group size on rank {w}")
        expect(s["rank"] == ordered.index(w) and s["comm_rank"] == s["rank"], f"sub-group rank on rank {w}")
        expect(s["sum_of_world_ranks"] == sum(members), f"sub-group allreduce on rank {w}")
        expect(s["data_parallel_size"] == len(members), f"data-parallel size on rank {w}")
        expect(s["data_parallel_backend"] == ("local" if len(members) == 1 else "mpi"),
               f"data-parallel backend on rank {w}: {s['data_parallel_backend']}")
        expect(s["data_parallel_sum_of_ones"] == len(members), f"data-parallel allreduce on rank {w}")


def check_subgroup(results, n):
    for r in results:
        g, w = r["subgroup"], r["rank"]
        if n == 1:
            members = [0]
        elif w in (0, n - 1):
            members = [n - 1, 0]
        else:
            members = list(range(1, n - 1))
        expect(g["members"] == members and g["size"] == len(members), f"subgroup members on rank {w}: {g}")
        expect(g["rank"] == members.index(w), f"subgroup rank on rank {w}: {g}")
        expect(g["sum_of_world_ranks"] == sum(members), f"subgroup allreduce on rank {w}: {g}")
        expect(g["backend"] == ("local" if len(members) == 1 else "mpi"), f"subgroup backend on rank {w}: {g}")


def check_ring(results, n):
    digests = {k: hashlib.sha256(payload_of(k, payload_size_of(k))).hexdigest() for k in range(n)}
    for r in results:
        ring, prev = r["ring"], (r["rank"] + n - 1) % n
        expect(ring["from"] == prev and ring["tag"] == 11, f"ring sender on rank {r['rank']}")
        expect(ring["size"] == payload_size_of(prev), f"ring payload size on rank {r['rank']}")
        expect(ring["sha256"] == digests[prev], f"ring payload bytes on rank {r['rank']}")


def check_any_source(results, n):
    a = results[0]["any_source"]
    expect(a["timed_out_empty"], "recv_for with nothing sent must time out empty")
    expect(sorted(a["hello_sources"]) == list(range(1, n)), f"any-source senders {a['hello_sources']}")
    expect(a["hello_payload_names_source"], "any-source payloads")
    want_sizes = [5000 + i if i % 2 else 3 + i for i in range(6)] if n > 1 else []
    expect(a["sequence_sizes"] == want_sizes and a["sequence_in_order"],
           f"message order from rank 1: {a['sequence_sizes']}")
    expect(a["nothing_left"], "no message left over")


def run_world(tool, n, scratch):
    out = os.path.join(scratch, f"np{n}")
    shutil.rmtree(out, ignore_errors=True)
    program = [tool, "--out", out, "--chunk-bytes", str(CHUNK_BYTES), "--payload-bytes", str(PAYLOAD_BYTES)]
    proc = subprocess.run(mpirun_command(n, program), env=mpi_env(), capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"mpirun -np {n} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    results = []
    for k in range(n):
        with open(os.path.join(out, f"rank{k}.json")) as f:
            results.append(json.load(f))
    return results


def check_world(results, n):
    for k, r in enumerate(results):
        expect(r["rank"] == k and r["size"] == n, f"world rank/size {r['rank']}/{r['size']}")
        # One node: the node-local rank is the world rank.
        expect(r["local_rank"] == k and r["local_size"] == n, f"local rank {r['local_rank']}/{r['local_size']}")
        expect(r["launched_under_mpi"], "mpirun must be detected")
        expect(r["max_tag"] >= 32767, "MPI_TAG_UB")
    check_allreduce(results)
    check_broadcast(results, n)
    check_split(results, n)
    check_subgroup(results, n)
    check_ring(results, n)
    check_any_source(results, n)


def check_launch_detection(tool):
    """launched_under_mpi() reads the environment only, and never initialises MPI."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("OMPI_", "PMI_", "PMIX_", "SLURM_"))}
    cases = [
        ({}, False),
        ({"OMPI_COMM_WORLD_SIZE": "2"}, True),
        ({"PMI_SIZE": "4"}, True),
        ({"PMIX_RANK": "0"}, True),
        ({"SLURM_JOB_ID": "12", "SLURM_PROCID": "0"}, False),  # a batch script, before srun
        ({"SLURM_JOB_ID": "12", "SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "4"}, True),  # srun
    ]
    for extra, want in cases:
        proc = subprocess.run([tool, "--launch-check"], env={**base, **extra}, capture_output=True, text=True,
                              timeout=60, check=True)
        got = json.loads(proc.stdout)
        expect(got["launched_under_mpi"] == want, f"launched_under_mpi with {extra}: {got}")
        expect(got["built_with_mpi"], "built with MPI")


def main():
    if shutil.which("mpirun") is None:
        print("mpirun not found: skipped")
        return 77
    tool = os.path.join(os.environ["STRATA_TOOLS_DIR"], "cluster_selftest")
    scratch = os.path.join(os.environ["STRATA_TEST_TMP"], "mpi_cluster_comm")
    os.makedirs(scratch, exist_ok=True)
    check_launch_detection(tool)
    for n in RANK_COUNTS:
        with tempfile.TemporaryDirectory(dir=scratch) as tmp:
            check_world(run_world(tool, n, tmp), n)
        print(f"np {n}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
