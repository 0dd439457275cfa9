import { SoftmaxError } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { createWebGPUBackend } from '../src/index.js';

// createWebGPUBackend validates every option before it looks for a GPU, so none is needed here.
// (maxWorkgroupsPerDimension: 0 used to make every call loop forever, allocating without bound.)

/** A GPU object that fails the test if a backend ever gets as far as requesting an adapter. */
const noGPU = {
  requestAdapter: () => {
    throw new Error('the options were accepted');
  },
} as unknown as GPU;

async function rejection(options: unknown): Promise<SoftmaxError> {
  const error = await createWebGPUBackend(options as Parameters<typeof createWebGPUBackend>[0]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SoftmaxError);
  return error as SoftmaxError;
}

const expectInvalid = async (options: unknown, name: string, value?: string) => {
  const error = await rejection(options);
  expect(error.code, error.message).toBe('INVALID_OPTION');
  expect(error.message).toContain(name);
  if (value !== undefined) expect(error.message).toContain(`got ${value}`);
};

const INTEGER_KNOBS = ['targetWorkgroups', 'minLanesPerThread', 'lanesPerThread', 'maxWorkgroupsPerDimension'];
const POW2_KNOBS = ['maxUnitThreads', 'minWorkgroupSize'];

describe('createWebGPUBackend options', () => {
  it.each(INTEGER_KNOBS)('rejects tuning.%s that is not a positive integer', async (key) => {
    for (const [value, shown] of [
      [0, '0'],
      [-1, '-1'],
      [1.5, '1.5'],
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      ['8', '"8"'],
      [null, 'null'],
      [2 ** 53, String(2 ** 53)],
    ] as const) {
      await expectInvalid({ gpu: noGPU, tuning: { [key]: value } }, `options.tuning.${key}`, shown);
    }
  });

  it.each(POW2_KNOBS)('rejects tuning.%s that is not a power of two', async (key) => {
    for (const [value, shown] of [
      [0, '0'],
      [3, '3'],
      [48, '48'],
      [0.5, '0.5'],
      [-4, '-4'],
      [true, 'true'],
    ] as const) {
      await expectInvalid({ gpu: noGPU, tuning: { [key]: value } }, `options.tuning.${key}`, shown);
    }
  });

  it('rejects tuning.maxBindingBytes below 1024 or not an integer', async () => {
    for (const [value, shown] of [
      [0, '0'],
      [1023, '1023'],
      [4096.5, '4096.5'],
      ['4096', '"4096"'],
    ] as const) {
      await expectInvalid({ gpu: noGPU, tuning: { maxBindingBytes: value } }, 'options.tuning.maxBindingBytes', shown);
    }
  });

  it.each(['subgroups', 'guardCompensation'])('rejects tuning.%s that is not a boolean', async (key) => {
    await expectInvalid({ gpu: noGPU, tuning: { [key]: 1 } }, `options.tuning.${key}`, '1');
    await expectInvalid({ gpu: noGPU, tuning: { [key]: 'false' } }, `options.tuning.${key}`, '"false"');
  });

  it('rejects unknown keys, and options or tuning that are not objects', async () => {
    await expectInvalid({ gpu: noGPU, tuning: { maxWorkgroups: 4 } }, 'options.tuning.maxWorkgroups');
    await expectInvalid({ gpu: noGPU, tunning: {} }, 'options.tunning');
    await expectInvalid({ gpu: noGPU, tuning: 4 }, 'options.tuning', '4');
    await expectInvalid({ gpu: noGPU, tuning: [] }, 'options.tuning', 'Array(0)');
    await expectInvalid(null, 'options', 'null');
    await expectInvalid('webgpu', 'options', '"webgpu"');
  });

  it('rejects a device, gpu or powerPreference of the wrong kind', async () => {
    await expectInvalid({ device: {} }, 'options.device', 'Object');
    await expectInvalid({ device: 'gpu0' }, 'options.device', '"gpu0"');
    await expectInvalid({ gpu: {} }, 'options.gpu', 'Object');
    await expectInvalid({ gpu: noGPU, powerPreference: 'fast' }, 'options.powerPreference', '"fast"');
  });

  it('rejects gpu or powerPreference beside device, which would be ignored', async () => {
    const device = {
      createBuffer() {},
      createCommandEncoder() {},
      createComputePipeline() {},
      destroy() {},
    };
    await expectInvalid({ device, gpu: noGPU }, 'options.gpu');
    await expectInvalid({ device, powerPreference: 'low-power' }, 'options.powerPreference');
  });

  it('accepts valid options and keys set to undefined (then asks the GPU object for an adapter)', async () => {
    for (const options of [
      { gpu: noGPU },
      { gpu: noGPU, device: undefined, powerPreference: 'high-performance', tuning: undefined },
      {
        gpu: noGPU,
        tuning: {
          targetWorkgroups: 1,
          minLanesPerThread: 1,
          lanesPerThread: 1,
          maxBindingBytes: 1024,
          maxWorkgroupsPerDimension: 1,
          maxUnitThreads: 1,
          minWorkgroupSize: 256,
          subgroups: false,
          guardCompensation: undefined,
        },
      },
    ]) {
      const error = await rejection(options);
      expect(error.code, error.message).toBe('BACKEND_UNAVAILABLE');
      expect(error.message).toMatch(/requestAdapter\(\) failed/);
    }
  });

  it('counts an unknown key as unknown even when it is undefined', async () => {
    await expectInvalid({ gpu: noGPU, tuning: { lanesPerThreads: undefined } }, 'options.tuning.lanesPerThreads');
  });
});
