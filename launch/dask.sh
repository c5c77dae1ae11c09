#!/usr/bin/env bash
# Run a poseact job on Beam's DaskRunner, on a Dask distributed cluster.
#   DASK_SCHEDULER=tcp://HOST:8786 bash launch/dask.sh extract --input DATA --output OUT  # a running cluster
#   WORKERS=2 bash launch/dask.sh extract --input DATA --output OUT   # a local cluster, started for this job
# Without DASK_SCHEDULER, a scheduler and WORKERS worker processes (default: one per core) are started on
# 127.0.0.1 with `dask scheduler` / `dask worker`, and stopped when the job ends; their logs go to
# DASK_LOG_DIR (default: a temporary folder, removed afterwards). MEMORY_LIMIT (default 3GiB) is each
# worker's limit: a MediaPipe worker peaks at about 1.25 GiB resident (docs/speed.md, Sizing), and Dask pauses a
# worker at 80% of its limit and restarts it at 95%. On a remote cluster every worker needs this
# environment (requirements.lock, then `pip install --no-deps .`, as in launch/Dockerfile) and must reach
# the job's inputs and outputs (gs://, s3://, or a shared file system).
source "$(dirname "$0")/job.sh"
RUNNER_FLAGS=(
  --runner=apache_beam.runners.dask.dask_runner.DaskRunner
  # The runner's Create packs up to 128 elements into one Dask partition and its Reshuffle does nothing,
  # so without this a job of up to 128 clips runs as one task on one worker. One clip per partition lets
  # the scheduler hand clips to workers as they come free.
  --dask_partition_size=1
)
if [ -n "${DASK_SCHEDULER:-}" ]; then
  RUNNER_FLAGS+=(--dask_client_address="$DASK_SCHEDULER")
  run_job "$@"
  exit  # PRINT_ONLY: run_job printed the command
fi

case "${1:-}" in extract | label) ;; *) run_job "$@" ;; esac  # anything else: usage, before any cluster starts
if [ "${PRINT_ONLY:-0}" = 1 ]; then
  RUNNER_FLAGS+=(--dask_scheduler_file="${DASK_LOG_DIR:-TEMPORARY_FOLDER}/scheduler.json")
  run_job "$@"
  exit
fi
WORKERS=${WORKERS:-$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)}  # nproc honours OMP_NUM_THREADS
MEMORY_LIMIT=${MEMORY_LIMIT:-3GiB}
DASK=${DASK:-.venv/bin/dask}
logs=${DASK_LOG_DIR:-$(mktemp -d -t poseact-dask-XXXXXX)}
mkdir -p "$logs"
scheduler_file="$logs/scheduler.json"
pids=()
stop_cluster() {  # SIGTERM lets workers and scheduler close cleanly; SIGKILL after 20 s
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ -z "${DASK_LOG_DIR:-}" ]; then rm -rf "$logs"; fi
}
trap stop_cluster EXIT
rm -f "$scheduler_file"
"$DASK" scheduler --host 127.0.0.1 --port 0 --no-dashboard --scheduler-file "$scheduler_file" \
  >"$logs/scheduler.log" 2>&1 &
pids+=($!)
# One single-threaded worker process per core: each runs one clip at a time with its own MediaPipe
# landmarker, so memory per worker is predictable and no clip waits on another's Python code (GIL).
"$DASK" worker --scheduler-file "$scheduler_file" --host 127.0.0.1 --nworkers "$WORKERS" --nthreads 1 \
  --memory-limit "$MEMORY_LIMIT" --no-dashboard >"$logs/workers.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do [ -s "$scheduler_file" ] && break; sleep 0.2; done
[ -s "$scheduler_file" ] || { echo "[dask] the scheduler did not start; see $logs/scheduler.log" >&2; exit 1; }
echo "[dask] local cluster: scheduler $(grep -o 'tcp://[0-9.:]*' "$scheduler_file" | head -1), $WORKERS workers" >&2
RUNNER_FLAGS+=(--dask_scheduler_file="$scheduler_file")
(run_job "$@")
