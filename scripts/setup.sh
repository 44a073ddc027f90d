#!/usr/bin/env bash
# Installs what building Recurrent needs on Debian/Ubuntu when it is missing: pkg-config and
# OpenBLAS (libopenblas-dev). Sourced by scripts/main.sh and scripts/test.sh; safe to run twice.
set -euo pipefail

need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if ! pkg-config --exists openblas 2>/dev/null; then need+=(libopenblas-dev); fi
if ! command -v swift >/dev/null 2>&1; then
  echo "error: swift is not on PATH; install Swift 6 first (https://www.swift.org/install/)" >&2
  exit 1
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} through apt-get" >&2
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
