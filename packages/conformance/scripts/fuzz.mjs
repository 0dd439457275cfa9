#!/usr/bin/env node
/**
 * A longer fuzz run: the conformance suite's seeded fuzz tests only, with more cases.
 *
 *   node scripts/fuzz.mjs [--cases N] [--seed S] [vitest test files…]
 *
 * Run it from the package whose conformance file it should use, e.g. from packages/wasm:
 *   node ../conformance/scripts/fuzz.mjs --cases 200000 test/conformance-simd.test.ts
 * (default file: test/core.test.ts here). It sets SOFTMAX_FUZZ_CASES and SOFTMAX_FUZZ_SEED,
 * which the suite reads, and runs vitest with `-t fuzz:`.
 */
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const env = { ...process.env };
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--cases') env.SOFTMAX_FUZZ_CASES = args[++i];
  else if (args[i] === '--seed') env.SOFTMAX_FUZZ_SEED = args[++i];
  else files.push(args[i]);
}
env.SOFTMAX_FUZZ_CASES ??= '100000';
if (files.length === 0) files.push('test/core.test.ts');
console.log(
  `fuzz: ${env.SOFTMAX_FUZZ_CASES} cases per dtype, seed ${env.SOFTMAX_FUZZ_SEED ?? 'default'}, ${files.join(' ')}`,
);
const run = spawnSync('pnpm', ['exec', 'vitest', 'run', ...files, '-t', 'fuzz:'], {
  stdio: 'inherit',
  env,
});
process.exitCode = run.status ?? 1;
