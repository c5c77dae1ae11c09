#!/usr/bin/env bash
# The README's main-job command: set up the environment, then run poseact end to end (extract, train).
#   bash launch/main.sh                 # on the bundled demo set (generated into runs/demo/data)
#   bash launch/main.sh DATA [OUT]      # on your data: a manifest (.csv/.jsonl) or class folders (EduNet)
# Extra Beam flags can be given in POSEACT_BEAM_ARGS, e.g. "--direct_num_workers=2 --direct_running_mode=multi_processing".
set -euo pipefail
cd "$(dirname "$0")/.."
bash launch/setup_env.sh
export TF_CPP_MIN_LOG_LEVEL=2 GLOG_minloglevel=2
OUT=${2:-runs/demo}
DATA=${1:-}
if [ -z "$DATA" ]; then
  echo "[main] generating the demo data set (animated real photos; it exercises the machinery only)"
  DATA=$(.venv/bin/poseact demo --output "$OUT/data" --sessions 8 | tail -1)
  # 48 demo clips leave about 24 for training: batch 8 gives the optimiser a few steps per epoch.
  POSEACT_TRAIN_ARGS=${POSEACT_TRAIN_ARGS:---batch-size 8}
fi
echo "[main] extracting landmarks from $DATA"
# shellcheck disable=SC2086
.venv/bin/poseact extract --input "$DATA" --output "$OUT/shards" ${POSEACT_BEAM_ARGS:-}
echo "[main] shards, schema, summary.json and errors.jsonl are in $OUT/shards"
echo "[main] training the paper's CNN-LSTM on the shards"
# shellcheck disable=SC2086
.venv/bin/poseact train --data "$OUT/shards" --output "$OUT/model" ${POSEACT_TRAIN_ARGS:-}
echo "[main] metrics: $OUT/model/metrics.json; plots: $OUT/model/curves.png, $OUT/model/confusion.png"
echo "[main] model: $OUT/model/model.keras, saved_model/, model.tflite, model_card.json; TensorBoard logs: $OUT/model/logs"
