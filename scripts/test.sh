#!/usr/bin/env bash
# Every test: installs what is missing, builds every package, then lint, typecheck and tests.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
pnpm exec biome check .
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# A backstop under CI's 90 minutes (a whole run takes about 5): a hung task ends the run with its output.
status=0
timeout --kill-after=30s 60m pnpm exec turbo run build typecheck test --output-logs=new-only --concurrency=1 2>&1 |
  tee "$log" || status=$?
[ "$status" -eq 124 ] && echo "test.sh: stopped after 60 minutes: a task hung (its output is above)"
[ "$status" -eq 0 ] || exit "$status"
# One closing line for the whole run: the vitest files' totals and the Rust tests' totals.
sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
  /Tests +[0-9]+ passed/ { for (i = 1; i <= NF; i++) if ($i == "passed") passed += $(i - 1); if (match($0, /[0-9]+ failed/)) failed += substr($0, RSTART, RLENGTH) + 0 }
  /test result: ok\./ { for (i = 1; i <= NF; i++) if ($i == "passed;") passed += $(i - 1) }
  END { printf "tests: %d passed, %d failed\n", passed, failed }'
