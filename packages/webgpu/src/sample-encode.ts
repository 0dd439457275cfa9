import { type SampleOptions, SoftmaxError } from '@softmax/core';
import {
  type CallShape,
  checkLayout,
  describeValue,
  OPS,
  type SampleCallOptions,
  sampleUniform,
} from '@softmax/core/backend';
import type { DeviceSlot } from './device-state.js';
import { scratch } from './encode.js';
import { sampleOp } from './ops.js';
import { checkBuffer, checkEncoder, checkQuerySet } from './ownership.js';
import { SAMPLE_STORAGE_BINDINGS, sampleParams, supportsSample } from './sample-params.js';
import { COPY_DST, STORAGE } from './usage.js';

/**
 * sample on the GPU (the GPU-resident API): recorded into the caller's encoder over the caller's
 * buffers, so a decoding loop reads back only its tokens (4 bytes a row), or nothing at all when
 * the next step consumes them on the GPU. Everything is checked before anything is recorded, as
 * for the other ops (encode.ts); the options are read by core's own readers (the op's
 * declaration), so every value means and is refused as in the array API.
 *
 * Each row's u is computed here, on the host, with core's sampleUniform (Philox4x32-10 keyed by
 * seed, row and step) and uploaded with the row's settings: 4 bytes a row, bit-identical to what
 * the array API and every other backend draw with.
 */

/** The buffers of a GPU-resident sample call; each holds its operand from byte 0. */
export interface SampleBuffers {
  /** rows × cols float32 (read only: penalties, bias and mask go to a copy). */
  logits: GPUBuffer;
  /** rows int32: each row's token (−1: a NaN at an allowed id; −2: nothing drawable). */
  tokens: GPUBuffer;
  /** rows float32, with `logprobs: true`: each token's log-probability. */
  logprobs?: GPUBuffer;
  /** rows × n int32 and float32, with `topLogprobs: n`: the n most probable kept ids (−1 past them) and their log-probabilities (−Infinity there). */
  topIds?: GPUBuffer;
  /** rows × n float32, with `topLogprobs: n`: the log-probabilities of `topIds`. */
  topLogprobs?: GPUBuffer;
}

/**
 * Shape and options of a GPU-resident sample call: core's sample options (the same rules and
 * defaults), with rows and cols required since buffers carry no shape.
 */
export interface SampleShape extends Omit<SampleOptions, 'cols'> {
  /** Rows of logits in `buffers.logits`: one token each. */
  rows: number;
  /** The vocabulary size: each row's length. */
  cols: number;
  /** Optional timestamp writes for the compute pass (needs the 'timestamp-query' feature). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

/** The option keys of core's declaration, as this API takes them (cols comes with rows). */
const CORE_KEYS = [
  'temperature',
  'topK',
  'topP',
  'minP',
  'seed',
  'step',
  'history',
  'repetitionPenalty',
  'presencePenalty',
  'frequencyPenalty',
  'logitBias',
  'mask',
  'logprobs',
  'topLogprobs',
] as const;
const SHAPE_KEYS: readonly string[] = ['rows', 'cols', ...CORE_KEYS, 'timestampWrites'];

function checkShape(shape: unknown): { rows: number; cols: number; options: SampleCallOptions } {
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
  const { rows, cols } = checkLayout({ rows: s.rows, cols: s.cols });
  const call: CallShape = { dtype: 'float32', rows, cols };
  const readers = OPS.sample.options;
  const options: Record<string, unknown> = {};
  for (const key of CORE_KEYS) {
    const reader = readers[key];
    const name = `options.${key}`;
    // Arrays are copied once by the reader's early step (as the array API does), then checked.
    const value = reader.early ? reader.early(s[key], name) : s[key];
    options[key] = reader(value, name, call);
  }
  return { rows, cols, options: options as unknown as SampleCallOptions };
}

/** Checks and records one sample call into `encoder` over the caller's buffers. */
export function encodeSample(
  slot: DeviceSlot,
  encoder: GPUCommandEncoder,
  buffers: SampleBuffers,
  shape: SampleShape,
): void {
  const state = slot.liveSync();
  const { device } = state;
  if (!supportsSample(device)) {
    throw new SoftmaxError(
      'UNSUPPORTED_OP',
      `sample needs ${SAMPLE_STORAGE_BINDINGS} storage buffers per shader stage; this device allows ${device.limits.maxStorageBuffersPerShaderStage}`,
    );
  }
  checkEncoder(device, slot.replaceable, encoder);
  if (typeof buffers !== 'object' || buffers === null) {
    throw new SoftmaxError(
      'INVALID_INPUT',
      `buffers must be { logits, tokens, logprobs?, topIds?, topLogprobs? }, got ${describeValue(buffers)}`,
    );
  }
  const { logits, tokens, logprobs, topIds, topLogprobs } = buffers;
  const c = checkShape(shape);
  const { rows, cols, options: o } = c;
  const n = o.topLogprobs;
  if (o.logprobs !== (logprobs !== undefined)) {
    throw new SoftmaxError(
      'INVALID_INPUT',
      o.logprobs
        ? 'options.logprobs is true: pass the log-probabilities buffer as logprobs'
        : 'logprobs is given but options.logprobs is not true',
    );
  }
  if ((n !== undefined) !== (topIds !== undefined) || (n !== undefined) !== (topLogprobs !== undefined)) {
    throw new SoftmaxError(
      'INVALID_INPUT',
      n !== undefined
        ? `options.topLogprobs is ${n}: pass both topIds and topLogprobs buffers`
        : 'topIds / topLogprobs are given but options.topLogprobs is not',
    );
  }
  const named: Array<[string, unknown, number]> = [
    ['logits', logits, rows * cols],
    ['tokens', tokens, rows],
  ];
  if (logprobs !== undefined) named.push(['logprobs', logprobs, rows]);
  if (topIds !== undefined) named.push(['topIds', topIds, rows * (n ?? 0)]);
  if (topLogprobs !== undefined) named.push(['topLogprobs', topLogprobs, rows * (n ?? 0)]);
  for (const [name, buffer] of named) checkBuffer(device, slot.replaceable, buffer, name, false);
  // One dispatch may not write a buffer that it also reads or writes elsewhere.
  for (let i = 0; i < named.length; i++) {
    for (let j = 0; j < i; j++) {
      if (named[i][1] === named[j][1]) {
        throw new SoftmaxError('INVALID_INPUT', `${named[j][0]} and ${named[i][0]} are the same buffer`);
      }
    }
  }
  const timestampWrites = (shape as SampleShape).timestampWrites;
  checkQuerySet(device, slot.replaceable, timestampWrites);
  for (const [name, buffer, values] of named) {
    if ((buffer as GPUBuffer).size < values * 4) {
      throw new SoftmaxError(
        'INVALID_SHAPE',
        `${name}: a buffer of ${(buffer as GPUBuffer).size} bytes cannot hold ${values} 32-bit values`,
      );
    }
  }
  if (rows === 0) {
    if (timestampWrites) encoder.beginComputePass({ timestampWrites }).end();
    return;
  }
  const plan = state.kernels.plan(rows, cols, sampleOp); // INVALID_SHAPE past one binding
  const u = new Float64Array(rows);
  for (let i = 0; i < rows; i++) u[i] = sampleUniform(o.seed[i], i, o.step[i]);
  const top = n ?? 0;
  const k = sampleParams({ rows, cols, options: o, u, logprobs: o.logprobs, top });
  // The call's own table: an encoder may hold several calls, each reading its own until submitted.
  const meta = device.createBuffer({
    label: 'softmax sample meta',
    size: k.meta.byteLength,
    usage: STORAGE | COPY_DST,
  });
  device.queue.writeBuffer(meta, 0, k.meta.buffer, k.meta.byteOffset, k.meta.byteLength);
  const work = k.process ? scratch(state, 'work', rows * cols * 4) : undefined;
  state.kernels.encode(
    encoder,
    sampleOp,
    plan,
    {
      inputs: [logits, meta],
      outputs: [tokens, logprobs, top > 0 ? topIds : undefined, top > 0 ? topLogprobs : undefined, work],
    },
    k.params,
    { external: true, timestampWrites },
  );
}
