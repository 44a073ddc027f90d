#!/usr/bin/env bash
# Set up and run the whole test suite (XCTest, release build: the numerical tests are much faster
# optimised), once under every kernel family this CPU supports (RECURRENT_KERNELS=avx512, avx2,
# neon, reference: the same tests must pass on each) on all cores, and once more under the fastest
# family on one thread (RECURRENT_THREADS=1: another split of the matrix products, so another order
# of the Float additions); before that the C kernel checker of each family (the NEON family too on
# x86-64: cross-built and run under qemu-aarch64).
#
# Every run goes to the end even when an earlier one fails; a summary follows, one line per run
# (family, threads, tests run, failures, time), and the exit status is non-zero when any failed.
#
# Extra arguments go to `swift test`, e.g. `scripts/test.sh --filter PyTorchFixture`.
# RECURRENT_KERNELS=avx2 scripts/test.sh runs the checker and the suite under that family only;
# RECURRENT_THREADS=N scripts/test.sh runs every family on N threads only (no extra one-thread run).
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

# The suite runs: "family threads" pairs ("all": RECURRENT_THREADS unset, every core).
cores="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)"
runs=()
for family in "${families[@]}"; do runs+=("$family ${RECURRENT_THREADS:-all}"); done
if [ -z "${RECURRENT_THREADS:-}" ] && [ -z "${RECURRENT_KERNELS:-}" ] && [ "$cores" -gt 1 ]; then
  runs+=("${families[0]} 1")
fi

summary=()
failed=0
logs="$(mktemp -d "${TMPDIR:-/tmp}/recurrent-test.XXXXXX")"
trap 'rm -rf "$logs"' EXIT

for family in "${checks[@]}"; do
  echo "== C kernel checker: $family"
  start=$SECONDS
  if bash scripts/kernels/check-family.sh "$family" > "$logs/check-$family.log" 2>&1; then status=0; else status=$?; fi
  last="$(tail -n 1 "$logs/check-$family.log")"
  echo "$last"
  if [ "$status" -ne 0 ]; then
    failed=1
    tail -n 20 "$logs/check-$family.log"
    summary+=("$(printf 'kernel checker  %-9s  FAILED (exit %d): %s  %4ds' "$family" "$status" "$last" $((SECONDS - start)))")
  else
    summary+=("$(printf 'kernel checker  %-9s  ok: %s  %4ds' "$family" "$last" $((SECONDS - start)))")
  fi
done

swift build -c release --build-tests

for run in "${runs[@]}"; do
  read -r family threads <<< "$run"
  environment=(RECURRENT_KERNELS="$family")
  [ "$threads" != all ] && environment+=(RECURRENT_THREADS="$threads")
  echo "== swift test with ${environment[*]}"
  log="$logs/test-$family-$threads.log"
  start=$SECONDS
  set +e
  env "${environment[@]}" swift test -c release --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  seconds=$((SECONDS - start))
  # XCTest's line for the whole run, after "Test Suite 'All tests' passed|failed" (or 'Selected tests'
  # with a filter): "Executed N tests, with S tests skipped and F failures (U unexpected) in ...".
  executed="$(awk '/Test Suite .(All|Selected) tests. (passed|failed)/ { getline; line = $0 } END { print line }' "$log")"
  tests="$(sed -E 's/^[[:space:]]*Executed ([0-9]+) tests?.*/\1/' <<< "$executed")"
  failures="$(sed -nE 's/.* ([0-9]+) failures? .*/\1/p' <<< "$executed")"
  if [ -z "$executed" ]; then
    result="no XCTest summary (exit $status: crashed or did not start)"
  else
    result="$tests tests, ${failures:-?} failures"
  fi
  if [ "$status" -ne 0 ]; then failed=1; result="FAILED: $result"; else result="ok: $result"; fi
  [ "$threads" = all ] && threads="$cores (all)"
  summary+=("$(printf 'swift test      %-9s  threads %-7s  %s  %4ds' "$family" "$threads" "$result" "$seconds")")
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
