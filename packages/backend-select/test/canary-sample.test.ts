import { defineBackend, type OpCall, SAMPLE_OUTPUTS, type SampleParams } from '@softmax/core/backend';
import { describe, expect, it } from 'vitest';
import { runCanary } from '../src/canary.js';
import type { Runnable } from '../src/invoke.js';

/*
 * The canary on an op whose calls differ unless a seed is given (sample): it runs the reference
 * and the backend on one seed (the op's `repeatable` options) and compares what the kernels wrote,
 * the rows without a token included (its NaN row), so a backend drawing otherwise is caught.
 */
const now = () => 0;
const sampler = (run: (call: OpCall) => void) =>
  defineBackend({ name: 'fake', ops: { sample: ['float32', 'float64'] }, returns: 'sync', run }) as unknown as Runnable;

describe('the canary on sample', () => {
  it('a backend computing what core computes passes, its NaN and fully masked rows included', async () => {
    const result = await runCanary(
      sampler((call) => call.op.reference(call)),
      now,
    );
    expect(result.message).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.checks).toBe(4);
  });

  it('a backend drawing with another u is excluded', async () => {
    const result = await runCanary(
      sampler((call) => {
        const u = (call.params as unknown as SampleParams).u;
        call.op.reference({ ...call, params: { u: u.map((v) => (v + 0.5) % 1) } });
      }),
      now,
    );
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/^sample float32/);
  });

  it('a backend that draws for the NaN row is excluded', async () => {
    const result = await runCanary(
      sampler((call) => {
        call.op.reference(call);
        (call.outputs[SAMPLE_OUTPUTS.tokens] as Int32Array)[1] = 0;
      }),
      now,
    );
    expect(result.ok).toBe(false);
    expect(result.message).toContain('element 1');
  });
});
