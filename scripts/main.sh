#!/usr/bin/env bash
# The main job: set up, build the release binary and run `recurrent` on its built-in default
# (`recurrent demo`). Extra arguments replace the default subcommand, e.g. `scripts/main.sh --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build -c release --product recurrent >&2
if [ $# -eq 0 ]; then set -- demo; fi
exec .build/release/recurrent "$@"
