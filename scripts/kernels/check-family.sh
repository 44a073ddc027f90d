#!/usr/bin/env bash
# Builds scripts/kernels/check_family.c against the C sources of one kernel family and runs it:
#   scripts/kernels/check-family.sh FAMILY [--time]      FAMILY: neon | avx2 | avx512 | reference
# neon: cross-compiled with aarch64-linux-gnu-gcc (-O2 -static) and run under qemu-aarch64 (on an
#       arm64 host: compiled and run natively). The Debian packages gcc-aarch64-linux-gnu,
#       libc6-dev-arm64-cross and qemu-user are installed through apt-get when missing.
# avx2, avx512, reference: compiled natively with clang or gcc (-O2) and run; skipped (exit 0, with a
#       message) when the CPU lacks the instruction set.
# The checker's last line is "N passed, M failed"; the exit status is non-zero on any failure.
# Build products go to a temporary directory (or $CHECK_FAMILY_OUT), never into the source tree.
set -euo pipefail

usage() { echo "usage: $0 neon|avx2|avx512|reference [--time]" >&2; exit 2; }
[ $# -ge 1 ] || usage
family="$1"; shift
extra=("$@")

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kernels="$root/Sources/CRecurrentKernels"
checker="$root/scripts/kernels/check_family.c"
out="${CHECK_FAMILY_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/check-family.XXXXXX")}"
mkdir -p "$out"
[ -n "${CHECK_FAMILY_OUT:-}" ] || trap 'rm -rf "$out"' EXIT

sources=("$checker" "$kernels/portable.c" "$kernels/dispatch.c")
add_family_sources() {
  local f
  for f in "$kernels/$1.c" "$kernels/$1_lowp.c"; do
    if [ ! -f "$f" ]; then
      echo "check-family: $f does not exist: the $1 family is not (fully) written yet" >&2
      exit 1
    fi
    sources+=("$f")
  done
}

apt_install() {
  echo "check-family: installing $* through apt-get" >&2
  local sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

cflags=(-O2 -std=gnu11 -Wall -Wextra -I "$kernels")

case "$family" in
  neon)
    add_family_sources neon
    if [ "$(uname -m)" = aarch64 ] || [ "$(uname -m)" = arm64 ]; then
      cc="$(command -v clang || command -v gcc || command -v cc)"
      "$cc" "${cflags[@]}" -o "$out/check_family_neon" "${sources[@]}" -lm
      runner=()
    else
      need=()
      command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need+=(gcc-aarch64-linux-gnu)
      [ -d /usr/aarch64-linux-gnu/include ] || need+=(libc6-dev-arm64-cross)
      command -v qemu-aarch64 >/dev/null 2>&1 || command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user)
      [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
      aarch64-linux-gnu-gcc "${cflags[@]}" -static -o "$out/check_family_neon" "${sources[@]}" -lm
      runner=("$(command -v qemu-aarch64 || command -v qemu-aarch64-static)")
    fi
    echo "check-family: built $out/check_family_neon (${sources[*]##*/})" >&2
    status=0
    "${runner[@]}" "$out/check_family_neon" neon "${extra[@]}" || status=$?
    exit "$status"
    ;;
  avx2|avx512|reference)
    if [ "$(uname -m)" != x86_64 ] && [ "$family" != reference ]; then
      echo "check-family: $family needs an x86-64 CPU (this is $(uname -m)): skipped"; exit 0
    fi
    flags="$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)"
    has() { [[ " $flags " == *" $1 "* ]]; }
    case "$family" in
      avx2) if ! { has avx2 && has fma; }; then echo "check-family: this CPU lacks AVX2/FMA: avx2 skipped"; exit 0; fi ;;
      avx512) if ! { has avx512f && has avx512dq && has avx512vl && has avx512bw && has fma; }; then
                echo "check-family: this CPU lacks AVX-512 F/DQ/VL/BW: avx512 skipped"; exit 0; fi ;;
    esac
    [ "$family" = reference ] || add_family_sources "$family"
    cc="$(command -v clang || command -v gcc || command -v cc || true)"
    [ -z "$cc" ] && [ -x /opt/swift/usr/bin/clang ] && cc=/opt/swift/usr/bin/clang
    [ -n "$cc" ] || { echo "check-family: no C compiler (clang or gcc) found" >&2; exit 1; }
    "$cc" "${cflags[@]}" -o "$out/check_family_$family" "${sources[@]}" -lm
    echo "check-family: built $out/check_family_$family with $cc (${sources[*]##*/})" >&2
    status=0
    "$out/check_family_$family" "$family" "${extra[@]}" || status=$?
    if [ "$status" -eq 3 ]; then echo "check-family: $family not supported here: skipped"; exit 0; fi
    exit "$status"
    ;;
  *) usage ;;
esac
