#!/usr/bin/env bash
# Set up and run the whole test suite (XCTest, release build: the numerical tests are much faster
# optimised). Extra arguments go to `swift test`, e.g. `scripts/test.sh --filter PyTorchFixture`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec swift test -c release --disable-swift-testing "$@"
