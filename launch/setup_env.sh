#!/usr/bin/env bash
# Create or update the project environment (.venv) from requirements.lock, then make sure a pose model
# is available. Idempotent: a second run with an unchanged lock does nothing but the model check.
#
# Why uv: tfx-bsl 1.21 declares absl-py<2 while every current mediapipe declares absl-py~=2.3, so pip
# cannot resolve the set. requirements.lock was resolved once with uv and overrides.txt (which says
# why); `uv pip sync` installs exactly that list without re-resolving.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
PY=${POSEACT_PYTHON:-$(command -v python3.11 || command -v python3)}
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), "poseact needs Python 3.11 (found %s)" % sys.version.split()[0]'

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $PY"
  "$PY" -m venv .venv
fi
if ! .venv/bin/uv --version 2>/dev/null | grep -q "$UV_VERSION"; then
  .venv/bin/python -m pip install -q "uv==$UV_VERSION"
fi
lock_sha=$(sha256sum requirements.lock | cut -d' ' -f1)
if [ "$(cat .venv/.poseact-lock 2>/dev/null)" != "$lock_sha" ]; then
  echo "[setup] installing requirements.lock (about 3.3 GB the first time)"
  .venv/bin/uv pip sync -q --python .venv/bin/python requirements.lock
  .venv/bin/uv pip install -q --python .venv/bin/python "uv==$UV_VERSION"
  echo "$lock_sha" > .venv/.poseact-lock
fi
.venv/bin/uv pip install -q --python .venv/bin/python --no-deps -e .

# Exactly one distribution may provide cv2 (mediapipe would pull opencv-contrib-python beside ours).
cv2_owners=$(.venv/bin/python - <<'PY'
from importlib import metadata
owners = sorted({d.metadata["Name"] for d in metadata.distributions()
                 if any(str(f).startswith("cv2/") for f in (d.files or []))})
print(" ".join(owners))
PY
)
[ "$cv2_owners" = "opencv-python-headless" ] || { echo "[setup] expected only opencv-python-headless to provide cv2, found: $cv2_owners" >&2; exit 1; }

echo "[setup] checking the pose model and the classroom finders (of persons, and of heads)"
# The finders (used by the classroom path, and by the head finder when asked for) come from their CDN or the npm
# registry; without either (exit status 3), the rest still works.
status=0
.venv/bin/poseact model --pose-model "${POSEACT_POSE_MODEL:-full}" --finder || status=$?
if [ "$status" = 3 ]; then
  echo "[setup] a classroom finder could not be fetched: the classroom path or the head finder (and their tests) will not run" >&2
elif [ "$status" != 0 ]; then
  exit "$status"
fi
