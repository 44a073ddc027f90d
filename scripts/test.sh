#!/usr/bin/env bash
# Set up and run the whole test suite (release build: the numerical tests are much faster optimised).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec swift test -c release "$@"
