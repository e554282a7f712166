"""cluster/mpirun.sh and cluster/slurm.sbatch: syntax, the rank count, and the command line
they give `strata run` (with `echo` standing in for strata, and a fake srun for SLURM).
Exit 77 when mpirun is missing (the SLURM part needs none, but runs with the rest)."""
import os
import shutil
import stat
import subprocess
import sys

SOURCE = os.environ["STRATA_SOURCE_DIR"]
MPIRUN_SH = os.path.join(SOURCE, "cluster", "mpirun.sh")
SBATCH = os.path.join(SOURCE, "cluster", "slurm.sbatch")


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def run(cmd, env, cwd):
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def base_env(scratch):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OMPI_", "PMI_", "PMIX_", "SLURM_", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS"))}
    env["STRATA_BIN"] = shutil.which("echo")
    env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
    # Shared memory only: no network transports to probe in a container.
    env["MPIRUN_ARGS"] = "--mca pml ob1 --mca btl self,vader"
    # A folder in front of PATH for stand-ins (srun).
    bin_dir = os.path.join(scratch, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    env["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    return env


def check_mpirun_sh(scratch):
    env = base_env(scratch)
    code, out, err = run([MPIRUN_SH, "-n", "3", "sweep.toml", "--resume", "--quiet"], env, scratch)
    expect(code == 0, f"mpirun.sh -n 3 failed: {err}")
    expect(out.splitlines() == ["run sweep.toml --resume --quiet"] * 3, f"mpirun.sh -n 3 output: {out!r}")

    code, out, err = run([MPIRUN_SH, "sweep.toml"], {**env, "CUDA_VISIBLE_DEVICES": "0,1"}, scratch)
    expect(code == 0 and out.splitlines() == ["run sweep.toml"] * 3,
           f"a coordinator and one worker per visible GPU: {code} {out!r} {err}")

    code, out, err = run([MPIRUN_SH, "sweep.toml", "--log-json"], {**env, "CUDA_VISIBLE_DEVICES": ""}, scratch)
    expect(code == 0 and out.splitlines() == ["run sweep.toml --log-json"], f"no GPU, one rank: {out!r} {err}")

    code, _, err = run([MPIRUN_SH], env, scratch)
    expect(code == 2 and "usage" in err, "mpirun.sh without a sweep must print its usage")


def check_sbatch(scratch):
    env = base_env(scratch)
    # A stand-in srun that prints its options and runs the command once, as one task.
    srun = os.path.join(scratch, "bin", "srun")
    with open(srun, "w") as f:
        f.write('#!/usr/bin/env bash\necho "srun $*" >&2\nwhile [[ "$1" == --* ]]; do shift; done\nexec "$@"\n')
    os.chmod(srun, os.stat(srun).st_mode | stat.S_IEXEC)
    env.update({"SLURM_JOB_ID": "42", "SLURM_NTASKS": "1", "SLURM_CPUS_PER_TASK": "3"})
    code, out, err = run(["bash", SBATCH, "sweep.toml", "--quiet"], env, scratch)
    expect(code == 0, f"slurm.sbatch failed: {err}")
    expect(out.splitlines() == ["run sweep.toml --resume --quiet"], f"slurm.sbatch command: {out!r}")
    expect("--cpu-bind=none" in err, f"srun options: {err}")
    code, _, err = run(["bash", SBATCH], env, scratch)
    expect(code == 2 and "usage" in err, "slurm.sbatch without a sweep must print its usage")


def main():
    for script in (MPIRUN_SH, SBATCH):
        subprocess.run(["bash", "-n", script], check=True)
    if shutil.which("mpirun") is None:
        print("mpirun not found: skipped")
        return 77
    scratch = os.path.join(os.environ["STRATA_TEST_TMP"], "mpi_launch_scripts")
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    check_mpirun_sh(scratch)
    check_sbatch(scratch)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
