import { SoftmaxError } from '@softmax/core';
import { describeValue, OP_NAMES } from '@softmax/core/backend';
import type { Fingerprint } from './fingerprint.js';
import type { CandidateId, Dtype, OpName } from './types.js';

/**
 * A profile: measured choices, keyed by a fingerprint of the machine (FFTW's wisdom for softmax).
 * exportProfile() writes one; importProfile() and the stores read them. Per bucket it keeps each
 * candidate's median, spread and sample count, not the choice alone, so a profile from a machine
 * that lacks a candidate still ranks the others.
 */
export const PROFILE_FORMAT = 'softmax-auto-profile';

/** One candidate's measurement in a bucket of a profile. */
export interface ProfileEntry {
  /** Median time of the whole call, ms. */
  median: number;
  /** Relative half inter-quartile range. */
  spread: number;
  /** Samples measured. */
  n: number;
}

/** One (op, dtype, shape bucket) of a profile. */
export interface ProfileBucket {
  /** The op. */
  op: OpName;
  /** The float type. */
  dtype: Dtype;
  /** A shape of the bucket: rows. */
  rows: number;
  /** A shape of the bucket: cols. */
  cols: number;
  /** The candidate chosen there. */
  chosen?: CandidateId;
  /** Each candidate's measurement. */
  candidates: Partial<Record<CandidateId, ProfileEntry>>;
}

/** Measured choices, keyed by the machine's fingerprint: what `exportProfile()` returns. */
export interface Profile {
  /** Always 'softmax-auto-profile'. */
  format: typeof PROFILE_FORMAT;
  /** The format version (1). */
  version: 1;
  /** The machine the measurements were made on. */
  fingerprint: Fingerprint;
  /** The measured buckets. */
  buckets: ProfileBucket[];
}

const CANDIDATES: readonly CandidateId[] = ['core', 'wasm', 'wasm-mt', 'webgpu'];

const bad = (message: string) => new SoftmaxError('INVALID_OPTION', `not a @softmax/auto profile: ${message}`);
const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** Checks a profile's structure (a bad import is an error, never silently ignored). */
export function checkProfile(value: unknown): Profile {
  const p = (typeof value === 'string' ? parseJson(value) : value) as Partial<Profile> | null;
  if (!p || typeof p !== 'object') throw bad(`got ${describeValue(p)}`);
  if (p.format !== PROFILE_FORMAT) throw bad(`format is ${describeValue(p.format)}, expected '${PROFILE_FORMAT}'`);
  if (p.version !== 1) throw bad(`version ${describeValue(p.version)} is not supported (this package reads 1)`);
  if (!p.fingerprint || typeof p.fingerprint !== 'object') throw bad('no fingerprint');
  if (!Array.isArray(p.buckets)) throw bad('buckets is not an array');
  p.buckets.forEach((b, i) => {
    if (!OP_NAMES.includes(b?.op) || (b.dtype !== 'float32' && b.dtype !== 'float64')) {
      throw bad(`buckets[${i}] has op ${describeValue(b?.op)} and dtype ${describeValue(b?.dtype)}`);
    }
    if (!isCount(b.rows) || !isCount(b.cols)) throw bad(`buckets[${i}] has no positive rows and cols`);
    for (const [id, e] of Object.entries(b.candidates ?? {})) {
      if (!CANDIDATES.includes(id as CandidateId))
        throw bad(`buckets[${i}] names an unknown candidate ${describeValue(id)}`);
      if (!(e && e.median > 0 && e.spread >= 0 && isCount(e.n)))
        throw bad(`buckets[${i}].candidates.${id} is malformed`);
    }
  });
  return p as Profile;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw bad(`invalid JSON (${(error as Error).message})`);
  }
}
