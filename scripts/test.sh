#!/usr/bin/env bash
# Every test: installs what is missing, builds every package, then lint, typecheck and tests.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
pnpm exec biome check .
pnpm exec turbo run build typecheck test --output-logs=new-only --concurrency=1
