#!/usr/bin/env bash
# Run a poseact job on Google Cloud Dataflow, with workers in the container built from launch/Dockerfile.
#   PROJECT=my-project REGION=europe-west1 TEMP_LOCATION=gs://my-bucket/tmp \
#   IMAGE=europe-west1-docker.pkg.dev/my-project/poseact/worker:TAG \
#     bash launch/dataflow.sh extract --input gs://my-bucket/manifest.csv --output gs://my-bucket/shards
# Optional: MACHINE_TYPE (default n1-standard-4), MAX_WORKERS (default 10). Any other Dataflow option
# (--network, --subnetwork, --no_use_public_ips, --service_account_email, --dry_run=True, ...) goes after
# the job's flags. Credentials come from `gcloud auth application-default login` here and the workers'
# service account there, never from flags (Beam logs and sends every pipeline option to the service).
# shellcheck source=launch/job.sh
source "$(dirname "$0")/job.sh"
: "${PROJECT:?set PROJECT to your Google Cloud project id}"
: "${REGION:?set REGION to a Dataflow region, e.g. europe-west1}"
: "${TEMP_LOCATION:?set TEMP_LOCATION to a gs:// folder for Dataflow temporary and staging files}"
: "${IMAGE:?set IMAGE to the worker image built from launch/Dockerfile and pushed (see docs/scaling-out.md)}"
RUNNER_FLAGS=(
  --runner=DataflowRunner
  --project="$PROJECT"
  --region="$REGION"
  --temp_location="$TEMP_LOCATION"
  --sdk_container_image="$IMAGE"
  # Custom containers need Runner v2 (the default for Python; stated so that it cannot be switched off).
  --experiments=use_runner_v2
  --machine_type="${MACHINE_TYPE:-n1-standard-4}"
  --max_num_workers="${MAX_WORKERS:-10}"
  # Ships this checkout's code, so workers run what the launcher runs even if the image is older.
  --setup_file=./setup.py
)
run_job "$@"
