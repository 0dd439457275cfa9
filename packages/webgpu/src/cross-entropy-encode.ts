import { SoftmaxError } from '@softmax/core';
import { type CallShape, checkLayout, describeValue, OPS } from '@softmax/core/backend';
import { crossEntropyParams, type GradTarget, type TargetKind } from './cross-entropy-params.js';
import type { DeviceSlot } from './device-state.js';
import { scratch } from './encode.js';
import { partBytes, scaleRecordAt } from './kernels.js';
import { crossEntropyOp } from './ops.js';
import { checkBuffer, checkEncoder, checkQuerySet } from './ownership.js';

/**
 * crossEntropy on the GPU (the GPU-resident API): recorded into the caller's encoder over the
 * caller's buffers, so a training loop never reads its logits back. Everything is checked before
 * anything is recorded, as for the other ops (encode.ts). The option rules are core's own readers
 * (the op's declaration), so every value means and is refused as in the array API.
 */

/** The buffers of a GPU-resident crossEntropy call; each holds its operand from byte 0. */
export interface CrossEntropyBuffers {
  /** rows × cols float32. */
  logits: GPUBuffer;
  /** rows class indices (int32 or uint32, per `targetType`), or rows × cols float32 probabilities. */
  targets: GPUBuffer;
  /** rows float32: each row's loss (0 for an ignored row), unreduced. */
  loss: GPUBuffer;
  /** rows × cols float32, with `gradient: true`: the gradient of the chosen reduction, times gradScale. */
  grad?: GPUBuffer;
  /** rows float32: each row's log-sum-exp of softcap(x)/T. */
  lse?: GPUBuffer;
  /** cols float32 class weights (finite, ≥ 0: the GPU cannot check them). Default all 1. */
  weight?: GPUBuffer;
}

/** Shape and options of a GPU-resident crossEntropy call: core's options, with the targets' element type. */
export interface CrossEntropyShape {
  /** Rows (≥ 0). */
  rows: number;
  /** Classes (> 0). */
  cols: number;
  /** The targets buffer's element type: class indices ('int32', default, or 'uint32') or probabilities ('float32'). */
  targetType?: 'int32' | 'uint32' | 'float32';
  /** Sets the gradient's scale: 'mean' divides by D, computed on the GPU from the targets (and weights). Default 'mean'. */
  reduction?: 'mean' | 'sum' | 'none';
  /** An index target equal to it counts for nothing; default −100. */
  ignoreIndex?: number;
  /** ε in [0, 1); default 0. */
  labelSmoothing?: number;
  /** ζ ≥ 0: ζ·lse² per row; default 0. */
  zLoss?: number;
  /** c > 0: logits become c·tanh(x/c) first; default off. */
  softcap?: number;
  /** T > 0; default 1. */
  temperature?: number;
  /** false (default), true (into `grad`), or 'in-place' (over `logits`). */
  gradient?: boolean | 'in-place';
  /** Multiplies the gradient; default 1. */
  gradScale?: number;
  /** Optional timestamp writes for the compute pass (needs the 'timestamp-query' feature). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

/** The option keys core's declaration reads, as this API takes them (weight is a buffer here). */
const CORE_KEYS = ['reduction', 'ignoreIndex', 'labelSmoothing', 'zLoss', 'softcap', 'gradient', 'gradScale'] as const;
const SHAPE_KEYS = ['rows', 'cols', 'temperature', 'targetType', ...CORE_KEYS, 'timestampWrites'];
const TARGET_TYPES: Record<string, TargetKind> = { int32: 'int32', uint32: 'uint32', float32: 'probs' };

/** The eight storage bindings cross_entropy.wgsl uses at once. */
export const CROSS_ENTROPY_STORAGE_BINDINGS = 8;

/** Whether the device can run crossEntropy's kernels (compatibility-mode devices allow only 4 storage bindings). */
export function supportsCrossEntropy(device: GPUDevice): boolean {
  return device.limits.maxStorageBuffersPerShaderStage >= CROSS_ENTROPY_STORAGE_BINDINGS;
}

interface Checked {
  rows: number;
  cols: number;
  temperature: number;
  targets: TargetKind;
  options: Record<(typeof CORE_KEYS)[number], unknown>;
  timestampWrites?: GPUComputePassTimestampWrites;
}

function checkShape(shape: unknown): Checked {
  if (typeof shape !== 'object' || shape === null || Array.isArray(shape)) {
    throw new SoftmaxError('INVALID_SHAPE', 'options.rows and options.cols are required for this call');
  }
  const s = shape as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (!SHAPE_KEYS.includes(key)) {
      throw new SoftmaxError(
        'INVALID_OPTION',
        `options.${key} is not a known option (expected one of ${SHAPE_KEYS.join(', ')})`,
      );
    }
  }
  const { rows, cols, temperature } = checkLayout({ rows: s.rows, cols: s.cols, temperature: s.temperature });
  const type = s.targetType ?? 'int32';
  const targets = typeof type === 'string' ? TARGET_TYPES[type] : undefined;
  if (!targets) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `options.targetType must be 'int32', 'uint32' or 'float32', got ${describeValue(s.targetType)}`,
    );
  }
  const call: CallShape = { dtype: 'float32', rows, cols };
  const readers = OPS.crossEntropy.options;
  const options = {} as Checked['options'];
  for (const key of CORE_KEYS) options[key] = readers[key](s[key], `options.${key}`, call);
  return {
    rows,
    cols,
    temperature,
    targets,
    options,
    timestampWrites: s.timestampWrites as Checked['timestampWrites'],
  };
}

/** Checks and records one crossEntropy call into `encoder` over the caller's buffers. */
export function encodeCrossEntropy(
  slot: DeviceSlot,
  encoder: GPUCommandEncoder,
  buffers: CrossEntropyBuffers,
  shape: CrossEntropyShape,
): void {
  const state = slot.liveSync();
  const { device } = state;
  if (!supportsCrossEntropy(device)) {
    throw new SoftmaxError(
      'UNSUPPORTED_OP',
      `crossEntropy needs ${CROSS_ENTROPY_STORAGE_BINDINGS} storage buffers per shader stage; this device allows ${device.limits.maxStorageBuffersPerShaderStage}`,
    );
  }
  checkEncoder(device, slot.replaceable, encoder);
  if (typeof buffers !== 'object' || buffers === null) {
    throw new SoftmaxError(
      'INVALID_INPUT',
      `buffers must be { logits, targets, loss, grad?, lse?, weight? }, got ${describeValue(buffers)}`,
    );
  }
  const { logits, targets, loss, grad, lse, weight } = buffers;
  const c = checkShape(shape);
  const o = c.options;
  const mode = o.gradient as boolean | 'in-place';
  // Over the logits, the gradient is written by the same thread that read each value: no copy.
  const inPlace = mode === 'in-place' || (mode === true && grad !== undefined && grad === logits);
  if (mode === true && grad === undefined) {
    throw new SoftmaxError('INVALID_INPUT', 'options.gradient is true: pass the gradient buffer as grad');
  }
  if (mode === false && grad !== undefined) {
    throw new SoftmaxError('INVALID_INPUT', "grad is given but options.gradient is false (pass true or 'in-place')");
  }
  if (mode === 'in-place' && grad !== undefined && grad !== logits) {
    throw new SoftmaxError(
      'INVALID_INPUT',
      "options.gradient 'in-place' writes over logits: pass no other grad buffer",
    );
  }
  const named: Array<[string, unknown, number]> = [
    ['logits', logits, c.rows * c.cols],
    ['targets', targets, c.targets === 'probs' ? c.rows * c.cols : c.rows],
    ['loss', loss, c.rows],
  ];
  if (grad !== undefined && !inPlace) named.push(['grad', grad, c.rows * c.cols]);
  if (lse !== undefined) named.push(['lse', lse, c.rows]);
  if (weight !== undefined) named.push(['weight', weight, c.cols]);
  for (const [name, buffer] of named) checkBuffer(device, slot.replaceable, buffer, name, false);
  // One dispatch may not write a buffer that it also reads or writes elsewhere.
  for (let i = 0; i < named.length; i++) {
    for (let j = 0; j < i; j++) {
      if (named[i][1] === named[j][1]) {
        throw new SoftmaxError(
          'INVALID_INPUT',
          `${named[j][0]} and ${named[i][0]} are the same buffer (only grad may be logits, for in place)`,
        );
      }
    }
  }
  checkQuerySet(device, slot.replaceable, c.timestampWrites);
  for (const [name, buffer, values] of named) {
    if ((buffer as GPUBuffer).size < values * 4) {
      throw new SoftmaxError(
        'INVALID_SHAPE',
        `${name}: a buffer of ${(buffer as GPUBuffer).size} bytes cannot hold ${values} 32-bit values`,
      );
    }
  }
  const { rows, cols } = c;
  if (rows === 0) {
    if (c.timestampWrites) encoder.beginComputePass({ timestampWrites: c.timestampWrites }).end();
    return;
  }
  const op = crossEntropyOp;
  const plan = state.kernels.plan(rows, cols);
  const probs = c.targets === 'probs';
  const gradScale = o.gradScale as number;
  const gradTarget: GradTarget = mode === false ? 'none' : inPlace ? 'in-place' : 'out';
  // k: 'mean' over class indices divides by D = Σ ω_i, which only the GPU can sum (ce_norm).
  const norm = gradTarget !== 'none' && o.reduction === 'mean' && !probs;
  const params = crossEntropyParams({
    rows,
    cols,
    targets: c.targets,
    weighted: weight !== undefined,
    ignoreIndex: o.ignoreIndex as number,
    labelSmoothing: o.labelSmoothing as number,
    zLoss: o.zLoss as number,
    softcap: o.softcap as number,
    temperature: c.temperature,
    grad: gradTarget,
    gradScale,
    scale: norm ? 'parts' : o.reduction === 'mean' ? gradScale / rows : gradScale,
    scaleAt: scaleRecordAt(plan, op),
  });
  state.kernels.encode(
    encoder,
    op,
    plan,
    {
      inputs: [logits, probs ? targets : undefined, probs ? undefined : targets, weight],
      outputs: [loss, gradTarget === 'out' ? grad : undefined, lse ?? scratch(state, 'rows', rows * 4)],
      parts: scratch(state, 'parts', partBytes(plan, op)),
    },
    params,
    { external: true, timestampWrites: c.timestampWrites, aux: norm ? ['norm'] : [] },
  );
}
