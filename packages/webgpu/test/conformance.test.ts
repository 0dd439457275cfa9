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
  // sample: how far u may sit from a boundary between two ids before the kernel's float32 sums
  // may put it on the other side. Each weight is within (1 + |t|·e^t)·2^-23 ≲ 1.4·2^-23 of its own
  // size (the polynomial's 0.97 ulp, the rounding of t = (x − max)/T); a thread's chunk sum is
  // Kahan-compensated; the prefix over at most 256 chunk sums and the scan inside one chunk (at
  // most 594 terms at 151,936 ids) are plain float32 sums, at most (256 + 594)·2^-24 ≈ 5.1e-5 of
  // the total between them in the worst case. 1e-4 covers that with room (default: 256·rtol).
  sampleMargin: 1e-4,
});
