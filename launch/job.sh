# shellcheck shell=bash
# Sourced by the runner entries (direct.sh, dataflow.sh, flink.sh): they differ only in RUNNER_FLAGS.
#
#   run_job JOB [ARGS...]   runs `poseact JOB RUNNER_FLAGS... ARGS...` from the repository root.
#
# JOB is `extract` or `label`; ARGS are the job's own flags and any Beam pipeline options. ARGS come last,
# so a flag given there overrides the runner's default (Beam and argparse keep the last value given).
# PRINT_ONLY=1 prints the command, one argument a line, instead of running it (used by the tests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
POSEACT=${POSEACT:-.venv/bin/poseact}

run_job() {
  local job=${1:-}
  case "$job" in
    extract | label) shift ;;
    *)
      echo "usage: $(basename "$0") {extract|label} --input ... --output ... [job flags] [Beam options]" >&2
      return 2
      ;;
  esac
  local cmd=("$POSEACT" "$job" "${RUNNER_FLAGS[@]}" "$@")
  if [ "${PRINT_ONLY:-0}" = 1 ]; then
    printf '%s\n' "${cmd[@]}"
    return 0
  fi
  export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} GLOG_minloglevel=${GLOG_minloglevel:-2}
  exec "${cmd[@]}"
}
