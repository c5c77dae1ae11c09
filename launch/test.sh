#!/usr/bin/env bash
# The README's test command: set up the environment if needed, then run the whole test suite.
# Extra arguments go to pytest (e.g. `bash launch/test.sh -k normalize`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash launch/setup_env.sh
exec .venv/bin/python -m pytest "$@"
