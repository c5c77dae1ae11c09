#!/usr/bin/env bash
# Run a poseact job on Flink (or any portable runner) through its Beam job server.
#   JOB_ENDPOINT=localhost:8099 bash launch/flink.sh extract --input DATA --output OUT
# ENVIRONMENT_TYPE says where Flink's task managers run the Python steps:
#   EXTERNAL (default)  a worker pool beside each task manager, e.g. the worker container run with
#                       `--worker_pool` (serves on port 50000); ENVIRONMENT_CONFIG=host:port (localhost:50000)
#   DOCKER              task managers start the worker container themselves; ENVIRONMENT_CONFIG=IMAGE
#   PROCESS             task managers run the SDK boot program installed on them;
#                       ENVIRONMENT_CONFIG='{"command": "/opt/apache/beam/boot"}'
# PARALLELISM (default: the job server's) sets Flink's parallelism. Inputs and outputs must be reachable
# from every task manager (gs://, s3://, or a shared file system).
# shellcheck source=launch/job.sh
source "$(dirname "$0")/job.sh"
: "${JOB_ENDPOINT:?set JOB_ENDPOINT to the Beam job server, e.g. localhost:8099}"
ENVIRONMENT_TYPE=${ENVIRONMENT_TYPE:-EXTERNAL}
case "$ENVIRONMENT_TYPE" in
  EXTERNAL) ENVIRONMENT_CONFIG=${ENVIRONMENT_CONFIG:-localhost:50000} ;;
  PROCESS) ENVIRONMENT_CONFIG=${ENVIRONMENT_CONFIG:-'{"command": "/opt/apache/beam/boot"}'} ;;
  DOCKER) : "${ENVIRONMENT_CONFIG:?set ENVIRONMENT_CONFIG to the worker image built from launch/Dockerfile}" ;;
  *) echo "ENVIRONMENT_TYPE must be EXTERNAL, PROCESS or DOCKER (got $ENVIRONMENT_TYPE)" >&2; exit 2 ;;
esac
RUNNER_FLAGS=(
  --runner=PortableRunner
  --job_endpoint="$JOB_ENDPOINT"
  --environment_type="$ENVIRONMENT_TYPE"
  --environment_config="$ENVIRONMENT_CONFIG"
)
if [ -n "${PARALLELISM:-}" ]; then RUNNER_FLAGS+=(--parallelism="$PARALLELISM"); fi
run_job "$@"
