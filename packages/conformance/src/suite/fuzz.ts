import type { FloatArray } from '@softmax/core';
import { expect, it } from 'vitest';
import { checkAgainstOracle, checkRowSums, describeCheck } from '../check.js';
import { floatTagOf, flushSubnormals } from '../dtypes.js';
import { environmentVariable } from '../environment.js';
import { FUZZ_CASES, FUZZ_SEED, type FuzzCase, fuzzCase } from '../fuzz-cases.js';
import { type BackwardOp, backwardScale, type SuiteContext } from './ops.js';

/** SOFTMAX_FUZZ_CASES and SOFTMAX_FUZZ_SEED (decimal or 0x hex) override the defaults. */
function setting(name: string, fallback: number): number {
  const text = environmentVariable(name);
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${text}`);
  return value;
}

function bytesOf(array: FloatArray): number[] {
  return Array.from(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
}

/** Checks one case; returns why it failed, or undefined. */
async function runCase(ctx: SuiteContext, c: FuzzCase): Promise<string | undefined> {
  const A = ctx.dtype.ArrayType;
  const { cols, temperature, fullyMasked } = c;
  const before = c.inputs.map(bytesOf);
  const flushed = c.inputs.map((v) =>
    ctx.subnormalInputs === 'flush' ? A.from(flushSubnormals(v, ctx.dtype.name)) : v,
  );
  const backend = ctx.backend();
  let result: unknown;
  let ref: FloatArray;
  let scale: ArrayLike<number> | undefined;
  // A case of an op the backend does not declare is not run (coverage.ts reports the op).
  const forward = ctx.forwardOps.find((op) => op.name === c.method);
  const backwardOp = ctx.backwardOps.find((o) => o.name === c.method);
  if (!forward && !backwardOp) return undefined;
  if (forward) {
    ref = forward.oracle(flushed[0], { cols, temperature, fullyMasked });
    scale = forward.scale(ref);
    result = await forward.run(backend, c.inputs[0], { cols, temperature, fullyMasked });
  } else {
    const op = backwardOp as BackwardOp;
    ref = op.oracle(flushed[0], flushed[1], { cols, temperature });
    scale = backwardScale(ctx, op, flushed[0], flushed[1], cols, temperature);
    result = await op.run(backend, c.inputs[0], c.inputs[1], { cols, temperature });
  }
  if (c.inputs.some((v, i) => bytesOf(v).some((b, k) => b !== before[i][k]))) return 'an input was modified';
  if (floatTagOf(result) !== ctx.dtype.name) return `the result is not a ${A.name}`;
  const y = result as FloatArray;
  const check = checkAgainstOracle(y, ref, { rtol: ctx.rtol, atol: ctx.atol, scale });
  if (!check.ok) return describeCheck(check, y, ref);
  if (c.method === 'softmax') {
    const sums = checkRowSums(y, ref, cols, ctx);
    if (!sums.ok) return `row ${sums.worstRow} sums to ${sums.worstSum} (${sums.worstRatio}× the bound)`;
  }
  return undefined;
}

/**
 * The seeded differential fuzz for one dtype: FUZZ_CASES cases (or SOFTMAX_FUZZ_CASES) from
 * FUZZ_SEED (or SOFTMAX_FUZZ_SEED), each against the oracle within the backend's bound. A failure
 * names the seed and the case, which reproduce it.
 */
export function registerFuzzTests(ctx: SuiteContext): void {
  const cases = setting('SOFTMAX_FUZZ_CASES', FUZZ_CASES);
  const seed = setting('SOFTMAX_FUZZ_SEED', FUZZ_SEED);
  // A long run (SOFTMAX_FUZZ_CASES) gets time in proportion; the default is well inside 120 s.
  const timeout = 120_000 + cases * 100;
  it(`fuzz: ${cases} seeded cases against the oracle (seed 0x${seed.toString(16)})`, { timeout }, async () => {
    const failures: string[] = [];
    for (let i = 0; i < cases && failures.length < 5; i++) {
      const c = fuzzCase(seed, i, ctx.dtype);
      const why = await runCase(ctx, c);
      if (why) {
        failures.push(
          `case ${i} of seed 0x${seed.toString(16)}: ${c.method} ${c.rows} × ${c.cols}, temperature ${c.temperature}` +
            `${c.fullyMasked ? `, fullyMasked '${c.fullyMasked}'` : ''}, rows [${c.patterns.join('; ')}]: ${why}`,
        );
      }
    }
    const repro = `reproduce with SOFTMAX_FUZZ_SEED=0x${seed.toString(16)} SOFTMAX_FUZZ_CASES=${cases}`;
    expect(failures, `${failures.length} failing case(s) (${repro}):\n${failures.join('\n')}`).toEqual([]);
  });
}
