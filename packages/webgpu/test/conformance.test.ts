import { describeConformance } from '@softmax/conformance';
import { gpuBackend } from './gpu.js';

// The shared suite on Dawn + SwiftShader. 'small' trims the largest shapes: SwiftShader runs
// compute shaders on the CPU (about 0.4 ms per workgroup that uses barriers).
describeConformance('webgpu (Dawn, SwiftShader)', () => gpuBackend(), {
  rtol: 2e-6,
  scale: 'small',
});
