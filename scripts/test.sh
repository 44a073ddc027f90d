#!/usr/bin/env bash
# Set up and run the whole test suite (XCTest, release build: the numerical tests are much faster
# optimised), once under every kernel family this CPU supports (RECURRENT_KERNELS=avx512, avx2,
# neon, reference: the same tests must pass on each), after the C kernel checker of each family
# (the NEON family too on x86-64: cross-built and run under qemu-aarch64).
# Extra arguments go to `swift test`, e.g. `scripts/test.sh --filter PyTorchFixture`.
# RECURRENT_KERNELS=avx2 scripts/test.sh runs the suite under that family only.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# The families this CPU runs, fastest first (the same tests as rk_family_supported in dispatch.c).
families=()
case "$(uname -m)" in
  x86_64)
    flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
    has() { [[ "$flags" == *" $1 "* ]]; }
    if has avx512f && has avx512dq && has avx512vl && has avx512bw && has fma; then families+=(avx512); fi
    if has avx2 && has fma; then families+=(avx2); fi
    checks=("${families[@]}" neon reference) ;;
  aarch64|arm64) families+=(neon); checks=(neon reference) ;;
  *) checks=(reference) ;;
esac
families+=(reference)
if [ -n "${RECURRENT_KERNELS:-}" ]; then families=("$RECURRENT_KERNELS"); checks=("$RECURRENT_KERNELS"); fi

for family in "${checks[@]}"; do
  echo "== C kernel checker: $family"
  bash scripts/kernels/check-family.sh "$family" | tail -n 1
done

swift build -c release --build-tests
for family in "${families[@]}"; do
  echo "== swift test with RECURRENT_KERNELS=$family"
  RECURRENT_KERNELS="$family" swift test -c release --skip-build --disable-swift-testing "$@"
done
