#!/usr/bin/env bash
# Installs whatever is missing for building, testing and benchmarking on Debian 12 + Node 20.
# Idempotent: each step checks first and returns quickly when its tool is already there.
# The steps live in scripts/setup/*.sh (one per toolchain) and run in name order.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
for step in scripts/setup/*.sh; do
  # shellcheck source=/dev/null
  source "$step"
done
