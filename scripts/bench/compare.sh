#!/usr/bin/env bash
# Recurrent against PyTorch, side by side in one run (see scripts/bench/compare.py for the options):
#   scripts/bench/compare.sh                      # W1–W7, 3 alternating rounds, ratios and peak memory
#   scripts/bench/compare.sh --scaling all --svg-dir docs/images
# Builds the release binary when missing and creates a Python venv with torch in .venv/ on first use
# (set RECURRENT_BENCH_PYTHON to use another Python that has torch). Never part of the build or tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup.sh
[ -x .build/release/recurrent ] || swift build -c release --product recurrent
python="${RECURRENT_BENCH_PYTHON:-.venv/bin/python}"
if ! "$python" -c "import torch" >/dev/null 2>&1; then
  echo "compare: creating .venv with torch (one time)" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet torch numpy
  python=.venv/bin/python
fi
exec "$python" scripts/bench/compare.py --python "$python" "$@"
