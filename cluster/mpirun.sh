#!/usr/bin/env bash
# Runs a sweep on one workstation under mpirun: rank 0 coordinates (it takes no GPU) and one
# worker rank per GPU.
#
#   cluster/mpirun.sh [-n RANKS] SWEEP.toml [strata run options...]
#
# The rank count is, in order: -n RANKS; one more than the GPUs listed in CUDA_VISIBLE_DEVICES
# or, unset, than the GPUs nvidia-smi lists; 1 with one GPU or none (one process runs every
# job itself; give -n for several CPU ranks). Every
# argument after the sweep goes to `strata run` unchanged (e.g. --resume, --quiet).
# STRATA_BIN names the strata executable (default: `strata` on PATH, else build/strata).
# MPIRUN_ARGS adds options for mpirun (e.g. "--mca btl self,vader,tcp").
set -euo pipefail

usage() {
  echo "usage: $0 [-n RANKS] SWEEP.toml [strata run options...]" >&2
  exit 2
}

ranks=""
if [[ "${1:-}" == "-n" ]]; then
  [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || usage
  ranks=$2
  shift 2
fi
[[ $# -ge 1 ]] || usage
sweep=$1
shift

# How many GPUs this process may use.
count_gpus() {
  if [[ -n "${CUDA_VISIBLE_DEVICES+set}" ]]; then
    # Set but empty hides every GPU.
    local list=${CUDA_VISIBLE_DEVICES//[[:space:]]/}
    [[ -z "$list" ]] && { echo 0; return; }
    local ids
    IFS=, read -r -a ids <<<"$list"
    echo "${#ids[@]}"
  elif command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --list-gpus 2>/dev/null | grep -c '^GPU' || true
  else
    echo 0
  fi
}

if [[ -z "$ranks" ]]; then
  gpus=$(count_gpus)
  ranks=$((gpus > 1 ? gpus + 1 : 1))
fi

strata=${STRATA_BIN:-}
if [[ -z "$strata" ]]; then
  if command -v strata >/dev/null 2>&1; then
    strata=$(command -v strata)
  else
    strata="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/strata"
  fi
fi

# Split the cores between the ranks unless the caller chose.
if [[ -z "${OMP_NUM_THREADS:-}" ]]; then
  cores=$(nproc 2>/dev/null || echo 1)
  export OMP_NUM_THREADS=$((cores / ranks > 0 ? cores / ranks : 1))
fi

mpi_args=(-np "$ranks")
mpi_version=$(mpirun --version 2>/dev/null || true)
if [[ "$mpi_version" == *"Open MPI"* ]]; then
  # Each rank runs torch with several threads: do not pin a rank to one core. Allow more
  # ranks than cores (CPU ranks on a small machine), and root inside containers.
  mpi_args+=(--bind-to none --oversubscribe -x OMP_NUM_THREADS)
  if [[ $(id -u) -eq 0 ]]; then mpi_args+=(--allow-run-as-root); fi
fi
read -r -a extra_mpi_args <<<"${MPIRUN_ARGS:-}"

echo "mpirun.sh: $ranks rank(s), OMP_NUM_THREADS=$OMP_NUM_THREADS, $strata run $sweep $*" >&2
exec mpirun "${mpi_args[@]}" "${extra_mpi_args[@]}" "$strata" run "$sweep" "$@"
