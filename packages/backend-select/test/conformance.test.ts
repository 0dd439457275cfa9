import { describeConformance } from '@softmax/conformance';
import { createSoftmax } from '../src/index.js';

// The shared suite through auto: forced to each backend, and the default instance (every
// candidate, choosing and exploring as it would for an application).
const ready = async (options: Parameters<typeof createSoftmax>[0]) => {
  const auto = createSoftmax(options);
  await auto.ready();
  return auto;
};

describeConformance('auto forced to core', () => ready({ backend: 'core' }), {
  rtol: 1e-6,
  float64: { rtol: 1e-12 },
});
describeConformance('auto forced to wasm', () => ready({ backend: 'wasm' }), {
  rtol: 1e-6,
  float64: { rtol: 1e-12 },
});
// WebGPU's contract, as packages/webgpu/test/conformance.test.ts declares it.
describeConformance('auto forced to webgpu', () => ready({ backend: 'webgpu' }), {
  rtol: 2e-6,
  scale: 'small',
  gradientIntermediates: 'flush',
  sampleMargin: 1e-4,
});

// The default instance's bound is its loosest member's: WebGPU's float32 bound when WebGPU can
// serve here (it joins the buckets where it is plausible once its pipelines compile).
const probe = await ready({ backend: 'webgpu' }).then(
  async (gpu) => {
    const ok = gpu.explain().backends.some((b) => b.id === 'webgpu' && b.status === 'available');
    await gpu.dispose();
    return ok;
  },
  () => false,
);
// 'small': the trimmed shapes (1 × 1,000,000 and 4096 × 128) are run through every member by
// the forced runs above; what this run adds is the dispatching between members (its calls may be
// served by different backends, hence `dispatcher`), which the smaller shapes exercise as well.
describeConformance('auto, the default instance', () => ready({}), {
  rtol: probe ? 2e-6 : 1e-6,
  float64: { rtol: 1e-12 },
  scale: 'small',
  dispatcher: true,
  ...(probe ? { gradientIntermediates: 'flush' as const } : {}),
});
