import type { Dtype } from '@softmax/core';
import type { BackwardCallOptions, ForwardCallOptions, OpName, OpSupport } from '@softmax/core/backend';
import type { KernelExports, KernelName } from './abi.js';

/**
 * How each op of core's table runs on the kernel. Every kernel takes pointers to the op's
 * operands (its inputs, then its outputs, in declaration order), then rows and cols, then the
 * scalars below; the marshaller (marshal.ts) and the thread pool need nothing else of an op (but
 * for the threads' split of one long float32 softmax row into pieces).
 */
export interface OpKernel {
  /** The kernel's export for each float type. */
  readonly exports: Readonly<Record<Dtype, KernelName>>;
  /** The scalar arguments after rows and cols, from the call's parsed options (defaults filled in). */
  scalars(options: Readonly<Record<string, unknown>>): number[];
}

const forward = (float32: KernelName, float64: KernelName): OpKernel => ({
  exports: { float32, float64 },
  scalars: (options) => {
    const { temperature, fullyMasked } = options as unknown as ForwardCallOptions;
    return [temperature, fullyMasked === 'zero' ? 1 : 0];
  },
});

/** Kernels whose one scalar is the temperature (the gradients, logSumExp). */
const withTemperature = (float32: KernelName, float64: KernelName): OpKernel => ({
  exports: { float32, float64 },
  scalars: (options) => [(options as unknown as BackwardCallOptions).temperature],
});

/** The ops this backend implements: those with a kernel here. */
export const KERNELS: { readonly [K in OpName]?: OpKernel } = {
  softmax: forward('softmax_f32', 'softmax_f64'),
  logSoftmax: forward('log_softmax_f32', 'log_softmax_f64'),
  softmaxBackward: withTemperature('softmax_backward_f32', 'softmax_backward_f64'),
  logSoftmaxBackward: withTemperature('log_softmax_backward_f32', 'log_softmax_backward_f64'),
  logSumExp: withTemperature('log_sum_exp_f32', 'log_sum_exp_f64'),
};

const DTYPES: readonly Dtype[] = ['float32', 'float64'];

/** What the backend declares (`backend.ops`): every op of KERNELS, in both float types. */
export const OP_SUPPORT: OpSupport = Object.fromEntries(Object.keys(KERNELS).map((name) => [name, DTYPES]));

/** The kernel of an op this backend implements (one of OP_SUPPORT's). */
export function kernelOf(op: OpName): OpKernel {
  return KERNELS[op] as OpKernel;
}

type Export = (...args: number[]) => number | undefined;

/**
 * Calls a kernel export with its `n` pointers, rows, cols and scalars. The ops' argument counts are
 * written out as direct calls: a spread call of a 10-element softmax kernel measured ~20 ns
 * (15%) slower in V8. Other counts (no op has them yet) take the spread.
 */
export function invoke(
  kernel: KernelExports,
  name: KernelName,
  p: readonly number[],
  n: number,
  rows: number,
  cols: number,
  s: readonly number[],
): number | undefined {
  const f = kernel[name] as Export;
  if (n === 2 && s.length === 2) return f(p[0], p[1], rows, cols, s[0], s[1]);
  if (n === 2 && s.length === 1) return f(p[0], p[1], rows, cols, s[0]);
  if (n === 3 && s.length === 1) return f(p[0], p[1], p[2], rows, cols, s[0]);
  return f(...p.slice(0, n), rows, cols, ...s);
}
