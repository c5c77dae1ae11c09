#!/usr/bin/env bash
# The README's main-job command: set up the environment, then run poseact end to end
# (extract, train, label a lecture with the trained model and with the pose rules).
#   bash launch/main.sh                 # on the bundled demo set (generated into runs/demo/data)
#   bash launch/main.sh DATA [OUT] [LECTURES]  # your clips (manifest or class folders, e.g. EduNet) and,
#                                              # optionally, lectures to label (glob, folder or list)
# Extra Beam flags can be given in POSEACT_BEAM_ARGS, e.g. "--direct_num_workers=2 --direct_running_mode=multi_processing".
# Each step prints its progress and a few closing lines (outputs, failures, its report and its log); the
# chatter of Beam, TensorFlow and MediaPipe goes to each step's log in its output folder
# (POSEACT_VERBOSE=1 shows it all here instead).
set -euo pipefail
cd "$(dirname "$0")/.."
bash launch/setup_env.sh
export TF_CPP_MIN_LOG_LEVEL=2 GLOG_minloglevel=2
OUT=${2:-runs/demo}
DATA=${1:-}
VERBOSE=()
if [ "${POSEACT_VERBOSE:-0}" = 1 ]; then VERBOSE=(--verbose); fi
if [ -z "$DATA" ]; then
  echo "[main] demo data set: animated real photos (it exercises the machinery only) in $OUT/data"
  DATA=$(.venv/bin/poseact demo --output "$OUT/data" --sessions 8 | tail -1)
  # 48 demo clips leave about 24 for training: batch 8 gives the optimiser a few steps per epoch.
  POSEACT_TRAIN_ARGS=${POSEACT_TRAIN_ARGS:---batch-size 8}
fi
echo "[main] 1/4 extracting landmarks from $DATA"
# shellcheck disable=SC2086
.venv/bin/poseact extract --input "$DATA" --output "$OUT/shards" "${VERBOSE[@]}" ${POSEACT_BEAM_ARGS:-}
echo "[main] 2/4 training the paper's CNN-LSTM on the shards"
# shellcheck disable=SC2086
.venv/bin/poseact train --data "$OUT/shards" --output "$OUT/model" "${VERBOSE[@]}" ${POSEACT_TRAIN_ARGS:-}
LECTURES=${3:-}
SCRIPT=""
if [ -z "$LECTURES" ]; then
  echo "[main] demo lecture: 4 students in a 1280x720 classroom view, 40 s, with a script of who does what when"
  LECTURES=$(.venv/bin/poseact demo --lecture --output "$OUT/lecture" --seconds 40 | tail -1)
  SCRIPT="$OUT/lecture/lecture_script.csv"
fi
echo "[main] 3/4 labelling $LECTURES with the trained model"
# shellcheck disable=SC2086
.venv/bin/poseact label --input "$LECTURES" --model "$OUT/model" --output "$OUT/labels" "${VERBOSE[@]}" ${POSEACT_BEAM_ARGS:-}
echo "[main] 4/4 labelling $LECTURES with the pose rules (no training: hand_raise, writing, reading, other)"
# shellcheck disable=SC2086
.venv/bin/poseact label --input "$LECTURES" --model rules --output "$OUT/labels-rules" "${VERBOSE[@]}" ${POSEACT_BEAM_ARGS:-}
if [ -n "$SCRIPT" ]; then
  .venv/bin/poseact agree --labels "$OUT/labels" --script "$SCRIPT" --name "trained model" --actions hand_raise,writing,reading --json "$OUT/labels/agreement.json"
  .venv/bin/poseact agree --labels "$OUT/labels-rules" --script "$SCRIPT" --name "rules" --actions hand_raise,writing,reading --json "$OUT/labels-rules/agreement.json"
fi
echo "[main] done: open $OUT/labels/report.html, $OUT/labels-rules/report.html and $OUT/model/report.html in a browser"
