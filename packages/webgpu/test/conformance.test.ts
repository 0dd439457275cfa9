import { describeConformance } from '@softmax/conformance';
import { gpuBackend } from './gpu.js';

// The shared suite on Dawn + SwiftShader. 'small' trims the largest shapes: SwiftShader runs
// compute shaders on the CPU (about 0.4 ms per workgroup that uses barriers).
describeConformance('webgpu (Dawn, SwiftShader)', () => gpuBackend(), {
  rtol: 2e-6,
  scale: 'small',
  // WGSL lets hardware flush floats below 2^-126: the gradients keep subnormal *inputs* (decoded
  // from their bits) but may flush an intermediate result before dividing by T (README, accuracy).
  gradientIntermediates: 'flush',
});
