import { SoftmaxError } from '@softmax/core';
import type { SampleCallOptions } from '@softmax/core/backend';
import type { OpParams } from './params.js';
import { type DeviceTraits, type Plan, reduceFor } from './plan.js';

/**
 * sample's kernel parameters (sample.wgsl): the per-row records and tables the kernel reads from
 * one `meta` buffer, the call-wide pipeline constants, and the layout (one unit of G threads per
 * row, rows never split). One builder for the array call and the GPU-resident one.
 */

/** Words of a row's record in meta (ROW_WORDS in sample.wgsl). */
export const ROW_WORDS = 16;
const F_GREEDY = 1;
const F_MASK = 2;

/** The seven storage bindings sample.wgsl uses at once (logits, meta, work, tokens, logprobs, top ids and log-probabilities). */
export const SAMPLE_STORAGE_BINDINGS = 7;

/** Whether the device can run sample's kernel (compatibility-mode devices allow only 4 storage bindings). */
export function supportsSample(device: GPUDevice): boolean {
  return device.limits.maxStorageBuffersPerShaderStage >= SAMPLE_STORAGE_BINDINGS;
}

const f32 = Math.fround;
const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * One unit per row: a thread per row for short rows (no reduction, no barrier), else about 32
 * ids per thread up to the workgroup size (64 on CPU adapters); several units share a workgroup
 * of at least 64 threads. The whole matrix is one binding: calls past maxStorageBufferBindingSize are refused.
 */
export function samplePlan(rows: number, cols: number, traits: DeviceTraits): Plan {
  const bytes = rows * cols * 4;
  if (bytes > traits.maxBindingBytes) {
    throw new SoftmaxError(
      'INVALID_SHAPE',
      `sample binds the ${rows} × ${cols} logits whole: ${bytes} bytes, more than this device's maxStorageBufferBindingSize (${traits.maxBindingBytes} bytes)`,
    );
  }
  // CPU adapters (units capped below 64 threads: see traits.ts) run a workgroup's invocations as
  // coroutines, every barrier switching all of them: there a row gets 64 threads, which measured
  // about twice as fast as 256 on SwiftShader at 32,000 to 151,936 ids.
  const maxWG = traits.maxUnitThreads < 64 ? Math.min(64, traits.maxWorkgroupSize) : traits.maxWorkgroupSize;
  const G = Math.min(maxWG, cols <= 32 ? 1 : nextPow2(Math.ceil(cols / 32)));
  const WG = Math.min(maxWG, Math.max(G, 64));
  const workgroups = Math.ceil(rows / (WG / G));
  const maxDim = traits.maxWorkgroupsPerDimension;
  const gridX = Math.min(workgroups, maxDim);
  const gridY = Math.ceil(workgroups / gridX);
  if (gridY > maxDim) {
    throw new SoftmaxError('INVALID_SHAPE', `sample: ${rows} rows need more workgroups than this device dispatches`);
  }
  return {
    rows,
    cols,
    vec: 1,
    colsV: cols,
    G,
    WG,
    segs: 1,
    segLenV: cols,
    reduce: reduceFor(G, traits),
    chunks: [
      {
        firstRow: 0,
        rows,
        bindOffset: 0,
        bindSize: bytes,
        baseV: 0,
        rowsBindOffset: 0,
        rowsBindSize: rows * 4,
        rowsBase: 0,
        gridX,
        gridY,
      },
    ],
  };
}

/** What a sample call's kernel reads: the settings core validated, each row's u, and the top count. */
export interface SampleSettings {
  rows: number;
  cols: number;
  options: SampleCallOptions;
  /** Row i's u (exactly a float32: core's sampleUniform). */
  u: ArrayLike<number>;
  /** Whether the log-probabilities are written. */
  logprobs: boolean;
  /** n of topLogprobs, or 0 when not asked. */
  top: number;
}

export interface SampleKernelParams {
  params: OpParams;
  /** The row records, then the history (id, count) and bias (id, value) pairs and mask words. */
  meta: Uint32Array;
  /** Whether the kernel processes a copy of the rows (penalties, bias or a mask). */
  process: boolean;
}

/** 1/T as float32: Infinity past float32's range (t = −Infinity below the max), 0 below it. */
const inverse = (T: number) => (T === 0 ? 0 : f32(1 / T));

/**
 * The meta words and constants of one call. Row records (ROW_WORDS each): flags, 1/T, topK, topP,
 * minP, u, the three penalties, history start/count, bias start/count, mask start, n, 0. The
 * float settings are rounded to float32 once here (topP and minP move by at most 2^-24 relative).
 */
export function sampleParams(s: SampleSettings): SampleKernelParams {
  const { rows, cols, options: o } = s;
  const W = Math.ceil(cols / 32);
  const h = o.history;
  const b = o.logitBias;
  const mask = o.mask;
  const hPairs = h.offsets[rows];
  const bPairs = b.offsets[rows];
  const hAt = rows * ROW_WORDS;
  const bAt = hAt + 2 * hPairs;
  const mAt = bAt + 2 * bPairs;
  const meta = new Uint32Array(mAt + (mask ? mask.words.length : 0));
  const fv = new Float32Array(meta.buffer);
  let searchK = false;
  let searchP = false;
  for (let i = 0; i < rows; i++) {
    const r = i * ROW_WORDS;
    const greedy = o.temperature[i] === 0;
    meta[r] = (greedy ? F_GREEDY : 0) | (mask ? F_MASK : 0);
    fv[r + 1] = inverse(o.temperature[i]);
    meta[r + 2] = Math.min(o.topK[i], 2 ** 32 - 1);
    fv[r + 3] = o.topP[i];
    fv[r + 4] = o.minP[i];
    fv[r + 5] = s.u[i];
    fv[r + 6] = o.repetitionPenalty[i];
    fv[r + 7] = o.presencePenalty[i];
    fv[r + 8] = o.frequencyPenalty[i];
    meta[r + 9] = hAt + 2 * h.offsets[i];
    meta[r + 10] = h.offsets[i + 1] - h.offsets[i];
    meta[r + 11] = bAt + 2 * b.offsets[i];
    meta[r + 12] = b.offsets[i + 1] - b.offsets[i];
    meta[r + 13] = mAt + (mask ? i * mask.stride : 0);
    meta[r + 14] = s.top;
    if (!greedy && o.topK[i] > 0 && o.topK[i] < cols) searchK = true;
    if (!greedy && f32(o.topP[i]) < 1) searchP = true;
  }
  for (let k = 0; k < hPairs; k++) {
    meta[hAt + 2 * k] = h.ids[k];
    meta[hAt + 2 * k + 1] = h.counts[k];
  }
  for (let k = 0; k < bPairs; k++) {
    meta[bAt + 2 * k] = b.ids[k];
    fv[bAt + 2 * k + 1] = b.values[k];
  }
  if (mask) meta.set(mask.words.subarray(0, mask.stride === 0 ? W : rows * W), mAt);
  // Penalties only matter on rows with a history; a row's bias only where it has entries.
  let penalised = false;
  for (let i = 0; i < rows && !penalised; i++) {
    penalised =
      h.offsets[i + 1] > h.offsets[i] &&
      (o.repetitionPenalty[i] !== 1 || o.presencePenalty[i] !== 0 || o.frequencyPenalty[i] !== 0);
  }
  const process = mask !== undefined || bPairs > 0 || penalised;
  const constants = {
    PROCESS: process ? 1 : 0,
    SEARCH_K: searchK ? 1 : 0,
    SEARCH_P: searchP ? 1 : 0,
    LOGPROBS: s.logprobs ? 1 : 0,
    TOPN: s.top > 0 ? 1 : 0,
  };
  const variant = Object.values(constants).join('');
  return {
    params: {
      temperature: 1,
      maskedZero: false,
      extra: { variant, key: variant, constants, words: new ArrayBuffer(0) },
    },
    meta,
    process,
  };
}
