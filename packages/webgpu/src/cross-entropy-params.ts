import { type OpParams, scaleFactors, splitTemperature } from './params.js';

/**
 * crossEntropy's kernel parameters (CeParams in cross_entropy.wgsl): the pipeline constants that
 * pick its code paths, and the words of its uniform block after Params. One builder for the array
 * call and the GPU-resident one.
 */

/** How the targets are held: class indices of either integer type, or probabilities (float32). */
export type TargetKind = 'int32' | 'uint32' | 'probs';

/** Where the gradient goes: nowhere, into its own buffer, or over the logits. */
export type GradTarget = 'none' | 'out' | 'in-place';

export interface CrossEntropySettings {
  rows: number;
  cols: number;
  targets: TargetKind;
  weighted: boolean;
  ignoreIndex: number;
  labelSmoothing: number;
  zLoss: number;
  /** 0: off. */
  softcap: number;
  temperature: number;
  grad: GradTarget;
  gradScale: number;
  /** k in the uniform block, or 'parts': in the scale record (written by the array call, or by ce_norm). */
  scale: number | 'parts';
  /** The scale record's index in the partials (scaleRecordAt). */
  scaleAt: number;
}

const HAS_IGNORE = 1;
const K_FROM_PARTS = 2;
export const CE_WORDS = 20;

const f32 = Math.fround;

/** ignoreIndex as the targets' bits, when their type can hold it (a Uint32Array never holds −100). */
function ignoreBits(kind: TargetKind, ignoreIndex: number): number | undefined {
  if (kind === 'int32' && ignoreIndex >= -(2 ** 31) && ignoreIndex < 2 ** 31) return ignoreIndex >>> 0;
  if (kind === 'uint32' && ignoreIndex >= 0 && ignoreIndex < 2 ** 32) return ignoreIndex;
  return undefined;
}

/**
 * c = cm·2^e with cm in (1, 2], exactly; cm as a 12-bit head plus the rest (so that the kernel's
 * x − u·c is exact, see softcap() in cross_entropy.wgsl), 1/cm, and 2^∓e as two float32 factors
 * each (|e| past 252 saturates: then every float32 logit is far inside, or far outside, tanh's range).
 */
function softcapWords(c: number): number[] {
  if (c === 0) return [0, 0, 0, 0, 0, 0, 0];
  const { tau, p } = splitTemperature(c);
  const cm = 2 * tau;
  const e = p - 1;
  const head = Math.floor(cm * 2 ** 11) / 2 ** 11;
  return [f32(1 / cm), head, f32(cm - head), ...scaleFactors(-e, 2), ...scaleFactors(e, 2)];
}

/** The pipeline constants and uniform words of one crossEntropy call. */
export function crossEntropyParams(s: CrossEntropySettings): OpParams {
  const probs = s.targets === 'probs';
  const constants = {
    PROBS: probs ? 1 : 0,
    WEIGHTS: s.weighted ? 1 : 0,
    SMOOTH: !probs && s.labelSmoothing > 0 ? 1 : 0,
    SOFTCAP: s.softcap > 0 ? 1 : 0,
    GRAD: s.grad === 'none' ? 0 : s.grad === 'out' ? 1 : 2,
  };
  const words = new ArrayBuffer(CE_WORDS * 4);
  const f = new Float32Array(words);
  const u = new Uint32Array(words);
  const ignore = probs ? undefined : ignoreBits(s.targets, s.ignoreIndex);
  f.set([
    1 - s.labelSmoothing,
    s.labelSmoothing / s.cols,
    s.zLoss,
    s.scale === 'parts' ? 0 : s.scale,
    ...softcapWords(s.softcap),
  ]);
  u.set([ignore ?? 0, (ignore === undefined ? 0 : HAS_IGNORE) | (s.scale === 'parts' ? K_FROM_PARTS : 0)], 11);
  u.set([s.scaleAt, s.cols], 13);
  f[15] = s.gradScale;
  u[16] = s.rows;
  const variant = Object.values(constants).join('');
  return {
    temperature: s.temperature,
    maskedZero: false,
    extra: { variant, key: `${variant}|${Array.from(u).join(',')}`, constants, words },
  };
}
