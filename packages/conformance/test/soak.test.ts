import { type Backend, createCoreBackend } from '@softmax/core';
import { expect, it } from 'vitest';
import { soakBackend, soakProblems } from '../src/index.js';

/** Core with a leak: every call keeps 315 bytes (a string it never drops). */
function leaking(): Backend {
  const core = createCoreBackend();
  const kept: string[] = [];
  const leak = <F extends (...args: never[]) => unknown>(f: F) =>
    ((...args: Parameters<F>) => {
      kept.push(`${kept.length}`.padEnd(315 - 16, '.'));
      return f(...args);
    }) as F;
  // Core's methods live on its prototype: bound, so they run as core's.
  return {
    name: core.name,
    ops: core.ops,
    dtypes: core.dtypes,
    dispose: () => core.dispose(),
    softmax: leak(core.softmax.bind(core)),
    logSoftmax: leak(core.logSoftmax.bind(core)),
    softmaxBackward: leak(core.softmaxBackward.bind(core)),
    logSoftmaxBackward: leak(core.logSoftmaxBackward.bind(core)),
    logSumExp: core.logSumExp.bind(core),
    crossEntropy: core.crossEntropy.bind(core),
    sample: core.sample.bind(core),
  };
}

it('the soak flags a backend that keeps ~315 bytes per call', { timeout: 120_000 }, async () => {
  const report = await soakBackend(leaking());
  const problems = soakProblems(report);
  expect(report.bytesPerCall).toBeGreaterThan(200);
  expect(problems.join('; ')).toContain('bytes per call');
});

it('the soak flags resources that grow', { timeout: 120_000 }, async () => {
  let held = 0;
  const report = await soakBackend(createCoreBackend(), { calls: 20_000, resources: () => held++ });
  expect(
    soakProblems(report, { maxHeapGrowthBytes: Number.POSITIVE_INFINITY, maxBytesPerCall: Number.POSITIVE_INFINITY }),
  ).toEqual([`the backend's resources grew from ${report.resourcesStart} to ${report.resourcesEnd}`]);
});
