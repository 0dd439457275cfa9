import type { Backend, Dtype, MaybePromise, OpName } from '@softmax/core';
import { OP_NAMES } from '@softmax/core/backend';
import { afterAll, describe } from 'vitest';
import { boundFor, type ConformanceContract } from '../contract.js';
import { ALL_DTYPES, DTYPES } from '../dtypes.js';
import { registerBackwardTests } from './backward.js';
import { registerCoverageTests } from './coverage.js';
import { registerCrossEntropyTests } from './cross-entropy.js';
import { registerErrorTests } from './errors.js';
import { registerForwardTests } from './forward.js';
import { registerFuzzTests } from './fuzz.js';
import { registerHostileTests, registerOwnMemoryTests } from './hostile.js';
import { registerOutTests } from './io.js';
import { registerLogSumExpTests } from './log-sum-exp.js';
import { BACKWARD_OPS, FORWARD_OPS, type SuiteContext } from './ops.js';
import { registerPropertyTests } from './properties.js';
import { registerSampleDtypeTests, registerSampleTests } from './sample.js';
import { registerSpecialValueTests } from './special.js';

const TEST_TIMEOUT_MS = 120_000;

/**
 * Registers the whole conformance suite for one backend as vitest `describe`/`it` blocks.
 * Call it at the top level of a vitest file. `create` runs once, while vitest collects the
 * file (so the tests can follow `backend.dtypes`); if it throws or rejects — no GPU, say —
 * the file fails with that reason. The backend is disposed after the last test.
 *
 * @example
 * ```ts
 * // my-backend.test.ts, run by vitest
 * import { describeConformance } from '@softmax/conformance';
 * import { createMyBackend } from '../src/index.js';
 *
 * describeConformance('my-backend', () => createMyBackend(), { rtol: 1e-6, float64: { rtol: 1e-12 } });
 * ```
 */
export function describeConformance(
  name: string,
  create: () => MaybePromise<Backend>,
  contract: ConformanceContract,
): void {
  // Generous per-test time: a 1,000,000-element case runs the oracle (~1 s) and a slow device.
  describe(`conformance: ${name}`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const backend = await create();
    afterAll(async () => {
      await backend.dispose();
    });
    const backendOf = () => backend;
    // Each dtype runs the ops the backend declares for it (backend.ops); coverage.ts reports the rest.
    const declares = (name: OpName, dtype: Dtype) => backend.ops[name]?.includes(dtype) ?? false;
    for (const dtype of ALL_DTYPES.filter((d) => backend.dtypes.includes(d))) {
      const ctx: SuiteContext = {
        backend: backendOf,
        dtype: DTYPES[dtype],
        ...boundFor(contract, dtype),
        scale: contract.scale ?? 'full',
        forwardOps: FORWARD_OPS.filter((op) => declares(op.name, dtype)),
        backwardOps: BACKWARD_OPS.filter((op) => declares(op.name, dtype)),
        subnormalInputs: contract.subnormalInputs ?? 'preserve',
        gradientIntermediates: contract.gradientIntermediates ?? 'preserve',
        dispatcher: contract.dispatcher === true,
      };
      const ownMemory = contract.ownMemory?.(backend);
      describe(dtype, () => {
        registerForwardTests(ctx);
        registerSpecialValueTests(ctx);
        registerOutTests(ctx);
        registerBackwardTests(ctx);
        registerPropertyTests(ctx);
        if (declares('logSumExp', dtype)) registerLogSumExpTests(ctx);
        if (declares('crossEntropy', dtype)) registerCrossEntropyTests(ctx);
        registerHostileTests(ctx);
        if (ownMemory) registerOwnMemoryTests(ctx, ownMemory);
        registerFuzzTests(ctx);
        if (declares('sample', dtype)) registerSampleTests(ctx);
      });
    }
    if (backend.ops.sample) registerSampleDtypeTests(backendOf);
    describe('bad inputs', () => registerErrorTests(backendOf, backend.dtypes));
    if (OP_NAMES.some((name) => !backend.ops[name])) {
      describe('ops of the table this backend does not implement', () =>
        registerCoverageTests(backendOf, backend.dtypes));
    }
  });
}
