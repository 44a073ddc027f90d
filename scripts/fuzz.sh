#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer (-sanitize=fuzzer,address, into
# .build-fuzz, apart from the normal build) and runs each for a fixed time (docs/fuzzing.md).
#
#   scripts/fuzz.sh [TARGET ...] [--seconds N] [--parallel N] [--build-only] [--list]
#
# TARGETs are the names of `--list` (default: all). Each runs N seconds (default 60) on its committed
# seeds (Fuzz/Seeds/TARGET) and regression inputs (Fuzz/Regressions/TARGET), which are replayed first,
# plus what earlier runs found (.build-fuzz/corpus/TARGET). --parallel runs that many targets at once
# (one core each). A crash, a hang (an input running over 10 s), an allocation over 512 MB, more than
# 2 GB resident or a leak stops the target; the input is saved under .build-fuzz/artifacts/TARGET/ and
# the script ends with status 1 after the summary. Reproduce one input with
#   .build-fuzz/release/fuzz-TARGET .build-fuzz/artifacts/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

all=(safetensors word-vectors csv forecast-config parallel-text labelled-text classify-config translate-config
     lm-config lm-vocabulary lm-state)
seconds=60 parallel=1 build_only=0 targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --parallel) parallel=$2; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --list) printf '%s\n' "${all[@]}"; exit 0 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [[ " ${all[*]} " == *" $1 "* ]] || { echo "error: no fuzz target '$1'; targets: ${all[*]}" >&2; exit 2; }
       targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

source scripts/setup.sh
scratch=.build-fuzz
started=$(date +%s)
mkdir -p "$scratch/logs"
for target in "${targets[@]}"; do
  if ! RECURRENT_FUZZ=1 swift build -c release --scratch-path "$scratch" --product "fuzz-$target" \
         -Xswiftc -sanitize=fuzzer,address >"$scratch/logs/build.log" 2>&1; then
    grep -E 'error' "$scratch/logs/build.log" >&2 || tail -n 20 "$scratch/logs/build.log" >&2
    echo "error: building fuzz-$target failed (log: $scratch/logs/build.log)" >&2
    exit 1
  fi
done
echo "== fuzz targets built in $(( $(date +%s) - started )) s"
[ "$build_only" -eq 0 ] || exit 0

# The longest input tried: the seeds are at most 2 KB, except checkpoint weights (up to 15 KB).
max_len() { case "$1" in safetensors) echo 16384 ;; *) echo 4096 ;; esac; }
# The token dictionary of a target (Fuzz/Dictionaries).
dictionary() {
  case "$1" in
    safetensors|word-vectors|csv) echo "Fuzz/Dictionaries/$1.dict" ;;
    parallel-text|labelled-text) echo Fuzz/Dictionaries/text.dict ;;
    *) echo Fuzz/Dictionaries/json.dict ;;
  esac
}

run() {
  local target=$1
  local corpus=$scratch/corpus/$target artifacts=$scratch/artifacts/$target/ log=$scratch/logs/$target.log
  mkdir -p "$corpus" "$artifacts"
  local inputs=("$corpus" "Fuzz/Seeds/$target")
  [ -d "Fuzz/Regressions/$target" ] && inputs+=("Fuzz/Regressions/$target")
  local status=0
  SWIFT_BACKTRACE=enable=no "$scratch/release/fuzz-$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -max_len="$(max_len "$target")" -dict="$(dictionary "$target")" -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$artifacts" \
    "${inputs[@]}" >"$log" 2>&1 || status=$?
  local runs rate units
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  units=$(find "${inputs[@]}" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    printf '%-17s ok      %9s runs  %6s exec/s  corpus %5s  %s\n' "$target" "${runs:-?}" "${rate:-?}" "$units" \
      "$(grep -m1 -oE 'cov: [0-9]+ ft: [0-9]+' <(tac "$log") || true)"
  else
    printf '%-17s FAILED  (status %s) %s\n' "$target" "$status" "$(grep -m1 -oE 'ERROR: [A-Za-z]+: [^ ]+( [^ ]+)?|ERROR: libFuzzer: [a-z-]+' "$log" || echo '')"
    grep -E 'Test unit written to' "$log" | sed 's/^/    /' || true
    echo "    log: $log"
    return 1
  fi
}

echo "== fuzzing ${#targets[@]} targets, $seconds s each, $parallel at a time"
failed=()
pids=() names=()
for target in "${targets[@]}"; do
  run "$target" & pids+=($!) names+=("$target")
  if [ ${#pids[@]} -ge "$parallel" ]; then
    wait "${pids[0]}" || failed+=("${names[0]}")
    pids=("${pids[@]:1}") names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${names[$i]}"); done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found failures in: ${failed[*]} (inputs under $scratch/artifacts/; see docs/fuzzing.md to add one as a test)" >&2
  exit 1
fi
echo "== no crash, hang, leak or excessive allocation in $(( $(date +%s) - started )) s"
