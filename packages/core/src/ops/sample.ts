import { SoftmaxError } from '../errors.js';
import { sampleUniform } from '../random/philox.js';
import { referenceSample, SAMPLE_NO_TOKEN } from '../reference-sample.js';
import type { FloatArray, SoftmaxInput } from '../types.js';
import { EXTENDED_VALIDATION } from '../validate-extended.js';
import type { OpCall, OpDecl } from './declaration.js';
import type { Asks, Part } from './result-types.js';
import type { Returns, Sync } from './returns.js';
import {
  flag,
  history,
  logitBias,
  mask,
  perRow,
  randomSeed,
  type SampleBias,
  type SampleHistory,
  type SampleMask,
  topCount,
} from './sample-options.js';

/**
 * sample: one token per row of rows × cols logits, drawn from the distribution left after
 * penalties → bias → mask → temperature → top-k → top-p → min-p, with u from Philox4x32-10 keyed
 * by (seed, row, step). Core validates, reads the history and biases into per-row tables and
 * computes every row's u once (`call.params.u`), so every backend draws with the same u; a kernel
 * writes the tokens (SAMPLE_NO_TOKEN for a row with none, which `finish` reports) and, when
 * asked, the log-probabilities.
 */

/** A number for every row, or one value per row. */
export type PerRowOption = number | readonly number[] | Float32Array | Float64Array | Int32Array | Uint32Array;

/** History ids: rows × length flat (−1 pads), or one array per row. */
export type SampleHistoryOption =
  | Int32Array
  | readonly number[]
  | readonly (Int32Array | Uint32Array | readonly number[])[];

/** Additive biases for some ids' logits: shared by every row, or per row with `offsets` (CSR). */
export interface LogitBiasOption {
  /** Biased ids, in [0, cols), each at most once per row. */
  ids: Int32Array | Uint32Array | readonly number[];
  /** Their additive biases, finite. */
  values: Float32Array | Float64Array | readonly number[];
  /** Per-row entries: row i's are [offsets[i], offsets[i + 1]) (rows + 1 values). Absent: every row takes them all. */
  offsets?: Int32Array | Uint32Array | readonly number[];
}

/** The options of `sample`: each is a number for every row or one value per row, unless it says otherwise. */
export interface SampleOptions {
  /** Row length (the vocabulary size): logits are rows × cols, row-major. Default: one row. */
  cols?: number;
  /** ≥ 0; 0 is greedy (the largest logit, ties to the lowest id). Default 1. */
  temperature?: PerRowOption;
  /** Keep the ids whose logit is ≥ the k-th largest (ties kept); 0 (default) is off; > cols keeps all. */
  topK?: PerRowOption;
  /** In (0, 1]: keep the most probable ids until their probability reaches topP (ties kept). Default 1 (off). */
  topP?: PerRowOption;
  /** In [0, 1): keep the ids with p ≥ minP · p_max. Default 0 (off). */
  minP?: PerRowOption;
  /** An integer in [0, 2^53). Default: a fresh random seed per call. */
  seed?: PerRowOption;
  /** An integer in [0, 2^53): the position in the sequence, so each token gets its own u. Default 0. */
  step?: PerRowOption;
  /** The ids the penalties count: rows × length (−1 pads) or one array per row. */
  history?: SampleHistoryOption;
  /** > 0: a positive logit of a history id is divided by it, a negative one multiplied (HF). Default 1. */
  repetitionPenalty?: PerRowOption;
  /** Subtracted once from the logit of every id in the history (OpenAI). Default 0. */
  presencePenalty?: PerRowOption;
  /** Subtracted once per occurrence in the history (OpenAI). Default 0. */
  frequencyPenalty?: PerRowOption;
  /** Additive biases by id, shared by every row or per row. */
  logitBias?: LogitBiasOption;
  /** Allowed ids: ceil(cols / 32) words per row (or one set for every row), bit j % 32 of word ⌊j / 32⌋. */
  mask?: Uint32Array | Int32Array;
  /** Also return each token's log-probability under the processed distribution. Default false. */
  logprobs?: boolean;
  /** Also return the n most probable ids per row and their log-probabilities (n in [0, cols]). */
  topLogprobs?: number;
}

/** The options as kernels read them (`call.options`): one Float64Array value per row for each per-row option. */
export interface SampleCallOptions {
  /** Per row: ≥ 0, 0 for greedy. */
  temperature: Float64Array;
  /** Per row: 0 for off. */
  topK: Float64Array;
  /** Per row: in (0, 1], 1 for off. */
  topP: Float64Array;
  /** Per row: in [0, 1), 0 for off. */
  minP: Float64Array;
  /** Per row: an integer in [0, 2^53) (a random one per call when not given). */
  seed: Float64Array;
  /** Per row: an integer in [0, 2^53), the position in the sequence. */
  step: Float64Array;
  /** Distinct ids and counts per row (CSR); empty rows when no history was given. */
  history: SampleHistory;
  /** Per row: > 0, 1 for off. */
  repetitionPenalty: Float64Array;
  /** Per row: subtracted once per id in the history. */
  presencePenalty: Float64Array;
  /** Per row: subtracted once per occurrence in the history. */
  frequencyPenalty: Float64Array;
  /** Per-row biases (CSR; a shared table is repeated for every row). */
  logitBias: SampleBias;
  /** The allowed ids, or undefined when every id is allowed. */
  mask: SampleMask | undefined;
  /** Whether the tokens' log-probabilities are asked for. */
  logprobs: boolean;
  /** n, or undefined when `top` is not asked. */
  topLogprobs: number | undefined;
}

/** What core derives once per call (`call.params`). */
export interface SampleParams {
  /** Row i's u ∈ [0, 1), sampleUniform(seed[i], i, step[i]): exactly a float32 (k · 2^-24). */
  u: Float64Array;
}

/** One validated call of `sample`, as a kernel receives it. */
export type SampleCall = OpCall<SampleCallOptions, SampleParams>;

/**
 * Output positions in `call.outputs`.
 *
 * @example
 * ```ts
 * import { SAMPLE_OUTPUTS, type SampleCall } from '@softmax/core/backend';
 *
 * function run(call: SampleCall) {
 *   const tokens = call.outputs[SAMPLE_OUTPUTS.tokens] as Int32Array; // one per row
 *   const wantLogprobs = call.present[SAMPLE_OUTPUTS.logprobs];
 * }
 * ```
 */
export const SAMPLE_OUTPUTS = { tokens: 0, logprobs: 1, topIds: 2, topLogprobs: 3 } as const;

const nonNegativeInteger = (v: number) => Number.isSafeInteger(v) && v >= 0;
// Not Number.isFinite itself: a bundler cannot tell that reading it has no side effect.
const isFiniteNumber = (v: number) => Number.isFinite(v);

// Pure calls: a bundle without sample drops its declaration (and its option readers).
const options = {
  temperature: /* @__PURE__ */ perRow(1, (v) => Number.isFinite(v) && v >= 0, 'a finite number ≥ 0 (0: greedy)'),
  topK: /* @__PURE__ */ perRow(0, nonNegativeInteger, 'an integer ≥ 0 (0: off)'),
  topP: /* @__PURE__ */ perRow(1, (v) => v > 0 && v <= 1, 'a number in (0, 1] (1: off)'),
  minP: /* @__PURE__ */ perRow(0, (v) => v >= 0 && v < 1, 'a number in [0, 1) (0: off)'),
  seed: /* @__PURE__ */ perRow(randomSeed, nonNegativeInteger, 'an integer in [0, 2^53)'),
  step: /* @__PURE__ */ perRow(0, nonNegativeInteger, 'an integer in [0, 2^53)'),
  history,
  repetitionPenalty: /* @__PURE__ */ perRow(1, (v) => Number.isFinite(v) && v > 0, 'a finite number > 0 (1: off)'),
  presencePenalty: /* @__PURE__ */ perRow(0, isFiniteNumber, 'a finite number (0: off)'),
  frequencyPenalty: /* @__PURE__ */ perRow(0, isFiniteNumber, 'a finite number (0: off)'),
  logitBias,
  mask,
  logprobs: flag,
  topLogprobs: topCount,
};

function derive(call: OpCall): SampleParams {
  const o = call.options as unknown as SampleCallOptions;
  const u = new Float64Array(call.rows);
  for (let i = 0; i < call.rows; i++) u[i] = sampleUniform(o.seed[i], i, o.step[i]);
  return { u };
}

/** The result from the kernel's outputs; a row without a token (SAMPLE_NO_TOKEN) is a SoftmaxError naming it. */
function finish(call: OpCall): SampleResult {
  const tokens = call.outputs[SAMPLE_OUTPUTS.tokens] as Int32Array;
  for (let i = 0; i < call.rows; i++) {
    if (tokens[i] === SAMPLE_NO_TOKEN.nan) {
      throw new SoftmaxError(
        'INVALID_INPUT',
        `logits row ${i} has a NaN (after penalties and bias) at an id the mask allows: no distribution to draw from`,
      );
    }
    if (tokens[i] === SAMPLE_NO_TOKEN.empty) {
      throw new SoftmaxError(
        'INVALID_INPUT',
        `logits row ${i}: every id the mask allows has logit −Infinity (after penalties and bias), so there is nothing to draw`,
      );
    }
  }
  const result: SampleResult = { tokens };
  if (call.present[SAMPLE_OUTPUTS.logprobs]) result.logprobs = call.outputs[SAMPLE_OUTPUTS.logprobs] as Float32Array;
  if (call.present[SAMPLE_OUTPUTS.topIds]) {
    result.top = {
      ids: call.outputs[SAMPLE_OUTPUTS.topIds] as Int32Array,
      logprobs: call.outputs[SAMPLE_OUTPUTS.topLogprobs] as Float32Array,
    };
  }
  return result;
}

const top = (o: Readonly<Record<string, unknown>>) => (o.topLogprobs === undefined ? 'absent' : 'present');
const topWidth = (o: Readonly<Record<string, unknown>>) => (o.topLogprobs as number | undefined) ?? 0;

export const sampleOp: OpDecl<'sample'> = {
  name: 'sample',
  inputs: [{ name: 'logits', element: 'float', shape: 'matrix' }],
  outputs: [
    { name: 'tokens', element: 'int32', shape: 'rows' },
    {
      name: 'logprobs',
      element: 'float',
      dtype: 'float32',
      shape: 'rows',
      when: (o) => (o.logprobs ? 'present' : 'absent'),
      whenOption: 'logprobs',
    },
    { name: 'topIds', element: 'int32', shape: 'rows', width: topWidth, when: top, whenOption: 'topLogprobs' },
    {
      name: 'topLogprobs',
      element: 'float',
      dtype: 'float32',
      shape: 'rows',
      width: topWidth,
      when: top,
      whenOption: 'topLogprobs',
    },
  ],
  options,
  derive: derive as unknown as OpDecl['derive'],
  finish,
  // Outputs present only when the options ask for them.
  validation: EXTENDED_VALIDATION,
  repeatable: { seed: 0 },
  reference: (call: OpCall) => {
    const o = call.options as unknown as SampleCallOptions;
    referenceSample({
      logits: call.inputs[0] as FloatArray,
      rows: call.rows,
      cols: call.cols,
      temperature: o.temperature,
      topK: o.topK,
      topP: o.topP,
      minP: o.minP,
      repetitionPenalty: o.repetitionPenalty,
      presencePenalty: o.presencePenalty,
      frequencyPenalty: o.frequencyPenalty,
      history: o.history,
      bias: o.logitBias,
      mask: o.mask,
      u: (call.params as unknown as SampleParams).u,
      tokens: call.outputs[SAMPLE_OUTPUTS.tokens] as Int32Array,
      logprobs: call.outputs[SAMPLE_OUTPUTS.logprobs] as Float32Array,
      top: o.topLogprobs ?? 0,
      topIds: call.outputs[SAMPLE_OUTPUTS.topIds] as Int32Array,
      topLogprobs: call.outputs[SAMPLE_OUTPUTS.topLogprobs] as Float32Array,
    });
  },
};

/** The n most probable ids of each row (rows × n, −1 past the kept set) and their log-probabilities (−Infinity there). */
export interface SampleTop {
  /** rows × n ids, most probable first (ties by ascending id). */
  ids: Int32Array;
  /** Their log-probabilities under the processed distribution. */
  logprobs: Float32Array;
}

/**
 * What sample returns: `tokens` (one per row), `logprobs` when `logprobs: true`, `top` when
 * `topLogprobs` is given; typed from the options when they are known.
 */
export type SampleResult<O = SampleOptions> = { tokens: Int32Array } & Part<
  Float32Array,
  'logprobs',
  Asks<O, 'logprobs', true>
> &
  Part<SampleTop, 'top', Asks<O, 'topLogprobs', number>>;

export interface SampleMethods<R = Sync> {
  /** One token per row of `logits`, drawn as the options say (see the README's `sample` section). */
  sample<const O extends SampleOptions = Record<never, never>>(
    logits: SoftmaxInput,
    options?: O,
  ): Returns<R, SampleResult<O>>;
}
