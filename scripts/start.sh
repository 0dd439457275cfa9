#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the demo (and, once it exists, the benchmark).
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
pnpm exec turbo run build --output-logs=errors-only
node scripts/demo.mjs "$@"
