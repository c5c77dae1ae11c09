#!/usr/bin/env bash
# Run a poseact job on Beam's DirectRunner, on this machine.
#   bash launch/direct.sh extract --input DATA --output OUT            # one worker, in this process
#   WORKERS=2 bash launch/direct.sh extract --input DATA --output OUT  # two worker processes
# WORKERS (default 1): above 1, that many worker processes (`multi_processing`); DIRECT_MODE overrides the
# running mode (in_memory, multi_threading, multi_processing).
# shellcheck source=launch/job.sh
source "$(dirname "$0")/job.sh"
WORKERS=${WORKERS:-1}
if [ "$WORKERS" -gt 1 ]; then mode=${DIRECT_MODE:-multi_processing}; else mode=${DIRECT_MODE:-in_memory}; fi
RUNNER_FLAGS=(
  --runner=DirectRunner
  --direct_num_workers="$WORKERS"
  --direct_running_mode="$mode"
)
run_job "$@"
