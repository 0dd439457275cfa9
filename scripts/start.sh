#!/usr/bin/env bash
# The main job: installs what is missing, builds, shows the demo, then runs the benchmark app
# (every backend against TensorFlow.js, ONNX Runtime and plain JS). Extra arguments go to the
# benchmark (e.g. --quick, --shapes 64x32000, --op all). Results go to bench/results/tmp/ and are
# compared with the recorded run in bench/results/full.json; `pnpm bench` refreshes the recorded run.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
pnpm exec turbo run build --output-logs=errors-only
# Without a GPU driver of its own, Dawn (WebGPU in Node) runs on Chromium's SwiftShader (Vulkan on
# the CPU); set VK_ICD_FILENAMES to use another driver. The benchmark CLI makes the same choice.
swiftshader=/usr/lib/chromium/vk_swiftshader_icd.json
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -f "$swiftshader" ]; then
  VK_ICD_FILENAMES="$swiftshader" LD_LIBRARY_PATH="/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" node scripts/demo.mjs
else
  node scripts/demo.mjs
fi
pnpm bench --out bench/results/tmp --name latest "$@"
if [ $# -eq 0 ]; then
  # Informational: medians that moved beyond the noise since the recorded run, each judged against
  # the copy floor of its own run (so a slower machine is reported as such, not as regressions).
  # --informational exits 0: the main command ends cleanly whatever the machine.
  pnpm bench compare --informational bench/results/full.json bench/results/tmp/latest.json
fi
