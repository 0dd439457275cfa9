import { describeValue, SoftmaxError } from '../errors.js';
import { lengthOf, typedArrayTag } from '../typed-arrays.js';
import type { OptionReader } from './declaration.js';
import { withEarly } from './options.js';

/**
 * sample's option readers. Whatever can run the caller's code — a number[]'s elements, the
 * properties of `logitBias`, a history's row arrays — is read in `early`, once, before the
 * logits are checked; the readers then check it against the call's shape. Each returns a form
 * every kernel can read directly: one Float64Array value per row, and CSR tables (offsets per
 * row) for the history and the biases.
 */

const invalid = (name: string, what: string, value: unknown) =>
  new SoftmaxError('INVALID_OPTION', `${name} must be ${what}, got ${describeValue(value)}`);

/** What `early` read; an error found there is thrown by the reader, in the order of the options. */
class Early<T> {
  constructor(
    readonly value: T | undefined,
    readonly error: SoftmaxError | undefined,
  ) {}
  get(): T {
    if (this.error) throw this.error;
    return this.value as T;
  }
}

function isArraySafely(value: unknown): value is readonly unknown[] | 'revoked' {
  try {
    return Array.isArray(value);
  } catch {
    // A revoked Proxy: reported by the reader.
    return false;
  }
}

/** A number[] copied element by element (each read once), or the error of why it cannot be. */
function readNumbers(value: readonly unknown[], name: string): Early<Float64Array> {
  try {
    const length = value.length;
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0 || length > 2 ** 32 - 1) {
      return new Early<Float64Array>(undefined, invalid(`${name}.length`, 'an array length', length));
    }
    const copy = new Float64Array(length);
    for (let i = 0; i < length; i++) {
      const v = value[i];
      if (typeof v !== 'number') return new Early<Float64Array>(undefined, invalid(`${name}[${i}]`, 'a number', v));
      copy[i] = v;
    }
    return new Early(copy, undefined);
  } catch (cause) {
    return new Early<Float64Array>(undefined, new SoftmaxError('INVALID_OPTION', `${name} cannot be read`, { cause }));
  }
}

const earlyNumbers = (value: unknown, name: string): unknown =>
  isArraySafely(value) ? readNumbers(value as readonly unknown[], name) : value;

const NUMERIC = ['Float32Array', 'Float64Array', 'Int32Array', 'Uint32Array'];
const INTEGER = ['Int32Array', 'Uint32Array'];

/** A numeric array option's values: a number[] read early, or a typed array of one of `tags`. */
function numbersOf(value: unknown, tags: readonly string[]): ArrayLike<number> | undefined {
  if (value instanceof Early) return value.get() as Float64Array;
  const tag = typedArrayTag(value);
  return tag !== undefined && tags.includes(tag) ? (value as Float64Array) : undefined;
}

function lengthOfNumbers(values: ArrayLike<number>): number {
  return typedArrayTag(values) === undefined ? values.length : lengthOf(values as Float64Array);
}

/** A typed array's elements by index (its iterator, which the caller may have replaced, is not used). */
function copyOf(values: Int32Array | Uint32Array): Float64Array {
  const length = lengthOf(values);
  const copy = new Float64Array(length);
  for (let k = 0; k < length; k++) copy[k] = values[k];
  return copy;
}

/**
 * A per-row option: a number for every row, or one value per row (number[], Float32Array,
 * Float64Array, Int32Array or Uint32Array); always returned as a Float64Array of rows values.
 */
export function perRow(fallback: number | (() => number), valid: (v: number) => boolean, what: string) {
  const reader: OptionReader<Float64Array> = (value, name, shape) => {
    const rows = shape?.rows ?? 0;
    if (value === undefined) return new Float64Array(rows).fill(typeof fallback === 'function' ? fallback() : fallback);
    if (typeof value === 'number') {
      if (!valid(value)) throw invalid(name, what, value);
      return new Float64Array(rows).fill(value);
    }
    const values = numbersOf(value, NUMERIC);
    if (values === undefined) throw invalid(name, `${what}, or an array of one such value per row`, value);
    const length = lengthOfNumbers(values);
    if (length !== rows) {
      throw new SoftmaxError(
        'INVALID_OPTION',
        `${name} must have one value per row (${rows}), got ${describeValue(value instanceof Early ? values : value)}`,
      );
    }
    const out = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      const v = values[i];
      if (!valid(v)) throw invalid(`${name}[${i}] (row ${i})`, what, v);
      out[i] = v;
    }
    return out;
  };
  reader.early = earlyNumbers;
  return reader;
}

/** A fresh seed in [0, 2^53) for a call that gives none (a fixed default would repeat its draws every call). */
export function randomSeed(): number {
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
  if (crypto?.getRandomValues) {
    const w = crypto.getRandomValues(new Uint32Array(2));
    return (w[1] & 0x1fffff) * 2 ** 32 + w[0];
  }
  return Math.floor(Math.random() * 2 ** 53);
}

export const flag: OptionReader<boolean> = (value, name) => {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid(name, 'a boolean', value);
  return value;
};

/** topLogprobs n: an integer in [0, cols]; undefined when not asked (no `top` in the result). */
export const topCount: OptionReader<number | undefined> = (value, name, shape) => {
  if (value === undefined) return undefined;
  const cols = shape?.cols ?? 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > cols) {
    throw invalid(name, `an integer in [0, cols] (cols = ${cols})`, value);
  }
  return value;
};

/** A CSR table: row i's entries are [offsets[i], offsets[i + 1]). */
export interface SampleHistory {
  /** rows + 1 offsets into `ids` and `counts`. */
  readonly offsets: Uint32Array;
  /** Row by row, the distinct ids of the history, ascending. */
  readonly ids: Int32Array;
  /** How often each occurs (≥ 1). */
  readonly counts: Int32Array;
}

/** The logit biases as kernels read them: a CSR table of ids and values per row. */
export interface SampleBias {
  /** rows + 1 offsets into `ids` and `values`. */
  readonly offsets: Uint32Array;
  /** Row by row, the biased ids (each at most once per row), in the caller's order. */
  readonly ids: Int32Array;
  /** The bias of each id, finite. */
  readonly values: Float64Array;
}

/** The allowed ids as kernels read them: bit words per row, or one set shared by every row. */
export interface SampleMask {
  /** Bit j % 32 of word ⌊j / 32⌋ of a row's ceil(cols / 32) words allows id j. A copy. */
  readonly words: Uint32Array;
  /** Row i's words start at i · stride: ceil(cols / 32), or 0 when every row shares one mask. */
  readonly stride: number;
}

const HISTORY_FORMS =
  'an Int32Array or number[] of rows × length ids (−1: padding), or an array of one Int32Array, Uint32Array or number[] per row';

/** The history as read early: flat (rows × length) or one array per row. */
type EarlyHistory = { flat: ArrayLike<number> } | { rows: ArrayLike<number>[] };

function readHistory(value: readonly unknown[], name: string): Early<EarlyHistory> {
  const fail = (error: SoftmaxError) => new Early<EarlyHistory>(undefined, error);
  try {
    const length = value.length;
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0 || length > 2 ** 32 - 1) {
      return fail(invalid(`${name}.length`, 'an array length', length));
    }
    const flat = new Float64Array(length);
    const rows: ArrayLike<number>[] = [];
    let perRowForm: boolean | undefined;
    for (let i = 0; i < length; i++) {
      const v = value[i];
      const isNumber = typeof v === 'number';
      perRowForm ??= !isNumber;
      if (!perRowForm) {
        if (!isNumber) return fail(invalid(`${name}[${i}]`, 'a number (an id, or −1) like the elements before it', v));
        flat[i] = v;
        continue;
      }
      if (isArraySafely(v)) rows.push(readNumbers(v as readonly unknown[], `${name}[${i}]`).get());
      else if (numbersOf(v, INTEGER)) rows.push(copyOf(v as Int32Array));
      else return fail(invalid(`${name}[${i}]`, "row i's ids: an Int32Array, Uint32Array or number[]", v));
    }
    return new Early<EarlyHistory>(perRowForm ? { rows } : { flat }, undefined);
  } catch (cause) {
    if (cause instanceof SoftmaxError) return fail(cause);
    return fail(new SoftmaxError('INVALID_OPTION', `${name} cannot be read`, { cause }));
  }
}

const parseHistory: OptionReader<SampleHistory> = (value, name, shape) => {
  const rows = shape?.rows ?? 0;
  const cols = shape?.cols ?? 0;
  if (value === undefined) {
    return { offsets: new Uint32Array(rows + 1), ids: new Int32Array(0), counts: new Int32Array(0) };
  }
  let source: EarlyHistory;
  if (value instanceof Early) source = value.get() as EarlyHistory;
  else if (typedArrayTag(value) === 'Int32Array') source = { flat: value as Int32Array };
  else throw invalid(name, HISTORY_FORMS, value);

  // Row i's ids are list(i)[start(i) + k], k < width(i); label names an element in the messages.
  let list: (i: number) => ArrayLike<number>;
  let start: (i: number) => number;
  let width: (i: number) => number;
  let label: (i: number, k: number) => string;
  if ('flat' in source) {
    const flat = source.flat;
    const length = lengthOfNumbers(flat);
    if (rows === 0 ? length !== 0 : length % rows !== 0) {
      throw invalid(`${name}.length`, `a multiple of the number of rows (${rows}): rows × history length`, length);
    }
    const L = rows === 0 ? 0 : length / rows;
    list = () => flat;
    start = (i) => i * L;
    width = () => L;
    label = (i, k) => `${name}[${i * L + k}] (row ${i})`;
  } else {
    const perRow = source.rows;
    if (perRow.length !== rows) {
      throw new SoftmaxError(
        'INVALID_OPTION',
        `${name} must have one array per row (${rows}), got ${perRow.length} arrays`,
      );
    }
    list = (i) => perRow[i];
    start = () => 0;
    width = (i) => perRow[i].length;
    label = (i, k) => `${name}[${i}][${k}]`;
  }
  const offsets = new Uint32Array(rows + 1);
  const ids: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < rows; i++) {
    const row = list(i);
    const first = start(i);
    const sorted = new Float64Array(width(i));
    for (let k = 0; k < sorted.length; k++) {
      const v = row[first + k];
      if (!(Number.isInteger(v) && v >= -1 && v < cols)) {
        throw invalid(label(i, k), `an id in [0, ${cols}) or −1 (padding)`, v);
      }
      sorted[k] = v;
    }
    sorted.sort();
    for (let k = 0; k < sorted.length; k++) {
      if (sorted[k] === -1) continue;
      if (ids.length > offsets[i] && ids[ids.length - 1] === sorted[k]) counts[counts.length - 1]++;
      else {
        ids.push(sorted[k]);
        counts.push(1);
      }
    }
    offsets[i + 1] = ids.length;
  }
  return { offsets, ids: Int32Array.from(ids), counts: Int32Array.from(counts) };
};
/** The history, as distinct ids and counts per row (empty for every row when absent). */
export const history = /* @__PURE__ */ withEarly(parseHistory, (value, name) =>
  isArraySafely(value) ? readHistory(value as readonly unknown[], name) : value,
);

const BIAS_KEYS = ['ids', 'values', 'offsets'];

/** logitBias's parts, read once each (a getter runs here, before the logits are checked). */
interface EarlyBias {
  ids: unknown;
  values: unknown;
  offsets: unknown;
}

function readBias(value: unknown, name: string): unknown {
  if (typeof value !== 'object' || value === null || isArraySafely(value) || ArrayBuffer.isView(value)) return value;
  try {
    const proto = Object.getPrototypeOf(value);
    if (proto !== null && Object.getPrototypeOf(proto) !== null) {
      return new Early<EarlyBias>(undefined, invalid(name, 'a plain object { ids, values, offsets? }', value));
    }
    for (const key of Object.keys(value)) {
      if (!BIAS_KEYS.includes(key)) {
        return new Early<EarlyBias>(
          undefined,
          new SoftmaxError('INVALID_OPTION', `${name}.${key} is not a known field (expected ids, values, offsets)`),
        );
      }
    }
    const record = value as Record<string, unknown>;
    const parts: EarlyBias = { ids: undefined, values: undefined, offsets: undefined };
    for (const key of BIAS_KEYS as Array<keyof EarlyBias>) parts[key] = earlyNumbers(record[key], `${name}.${key}`);
    return new Early(parts, undefined);
  } catch (cause) {
    return new Early<EarlyBias>(undefined, new SoftmaxError('INVALID_OPTION', `${name} cannot be read`, { cause }));
  }
}

const parseBias: OptionReader<SampleBias> = (value, name, shape) => {
  const rows = shape?.rows ?? 0;
  const cols = shape?.cols ?? 0;
  if (value === undefined) {
    return { offsets: new Uint32Array(rows + 1), ids: new Int32Array(0), values: new Float64Array(0) };
  }
  if (!(value instanceof Early)) throw invalid(name, 'an object { ids, values, offsets? }', value);
  const parts = value.get() as EarlyBias;
  const ids = numbersOf(parts.ids, INTEGER);
  if (!ids) throw invalid(`${name}.ids`, 'an Int32Array, Uint32Array or number[]', parts.ids);
  const values = numbersOf(parts.values, ['Float32Array', 'Float64Array']);
  if (!values) throw invalid(`${name}.values`, 'a Float32Array, Float64Array or number[]', parts.values);
  const n = lengthOfNumbers(ids);
  if (lengthOfNumbers(values) !== n) {
    throw invalid(
      `${name}.values`,
      `as long as ${name}.ids (${n})`,
      parts.values instanceof Early ? values : parts.values,
    );
  }
  for (let k = 0; k < n; k++) {
    if (!(Number.isInteger(ids[k]) && ids[k] >= 0 && ids[k] < cols)) {
      throw invalid(`${name}.ids[${k}]`, `an id in [0, ${cols})`, ids[k]);
    }
    if (!Number.isFinite(values[k])) {
      throw invalid(`${name}.values[${k}]`, 'a finite number (ban an id with options.mask)', values[k]);
    }
  }
  // Row i's range in ids/values: its own (CSR), or all of them when shared.
  const range = (i: number): [number, number] => (shared ? [0, n] : [offsets[i], offsets[i + 1]]);
  const shared = parts.offsets === undefined;
  let offsets: ArrayLike<number> = [];
  if (!shared) {
    const given = numbersOf(parts.offsets, INTEGER);
    const what = `rows + 1 (${rows + 1}) nondecreasing integers from 0 to ${name}.ids.length (${n})`;
    if (!given) throw invalid(`${name}.offsets`, `an Int32Array, Uint32Array or number[] of ${what}`, parts.offsets);
    const length = lengthOfNumbers(given);
    let ok = length === rows + 1 && given[0] === 0 && given[rows] === n;
    for (let i = 0; ok && i < rows; i++) ok = Number.isInteger(given[i + 1]) && given[i + 1] >= given[i];
    if (!ok) throw invalid(`${name}.offsets`, what, parts.offsets instanceof Early ? given : parts.offsets);
    offsets = given;
  }
  const out = { offsets: new Uint32Array(rows + 1), ids: [] as number[], values: [] as number[] };
  const seen = new Set<number>();
  for (let i = 0; i < rows; i++) {
    const [start, end] = range(i);
    // Checked once for a shared table: its rows are all the same.
    if (!shared || i === 0) {
      seen.clear();
      for (let k = start; k < end; k++) {
        if (seen.has(ids[k])) {
          throw new SoftmaxError(
            'INVALID_OPTION',
            `${name}.ids[${k}] (row ${i}${shared ? ', shared by every row' : ''}) repeats id ${ids[k]}: an id takes one bias per row`,
          );
        }
        seen.add(ids[k]);
      }
    }
    for (let k = start; k < end; k++) {
      out.ids.push(ids[k]);
      out.values.push(values[k]);
    }
    out.offsets[i + 1] = out.ids.length;
  }
  return { offsets: out.offsets, ids: Int32Array.from(out.ids), values: Float64Array.from(out.values) };
};
/**
 * logitBias: `{ ids, values }` shared by every row, or `{ ids, values, offsets }` with row i's
 * entries at [offsets[i], offsets[i + 1]) (CSR). Ids in [0, cols), each at most once per row;
 * values finite (an id is banned with the mask, not with −Infinity). Returned per row (CSR).
 */
export const logitBias = /* @__PURE__ */ withEarly(parseBias, readBias);

/**
 * mask: a Uint32Array (or Int32Array, the same bits) of ceil(cols / 32) words per row, xgrammar's
 * layout, or of ceil(cols / 32) words for every row. Bits past cols are ignored. A row that
 * allows no id is refused here, naming the row: there would be nothing to draw.
 */
export const mask: OptionReader<SampleMask | undefined> = (value, name, shape) => {
  if (value === undefined) return undefined;
  const rows = shape?.rows ?? 0;
  const cols = shape?.cols ?? 0;
  const W = Math.ceil(cols / 32);
  if (!INTEGER.includes(typedArrayTag(value) ?? '')) {
    throw invalid(name, `a Uint32Array (or Int32Array) of ceil(cols / 32) = ${W} words per row`, value);
  }
  const given = value as Uint32Array;
  const length = lengthOf(given);
  if (length !== rows * W && length !== W) {
    throw invalid(
      name,
      `of length rows × ceil(cols / 32) = ${rows} × ${W} = ${rows * W}, or ${W} (one mask for every row)`,
      value,
    );
  }
  const words = new Uint32Array(length);
  for (let k = 0; k < length; k++) words[k] = given[k];
  const stride = length === W && rows !== 1 ? 0 : W;
  const tail = cols % 32 === 0 ? 0xffffffff : 2 ** (cols % 32) - 1;
  for (let i = 0; i < (stride === 0 ? Math.min(rows, 1) : rows); i++) {
    let any = false;
    for (let w = 0; w < W && !any; w++) any = (words[i * stride + w] & (w === W - 1 ? tail : 0xffffffff)) >>> 0 !== 0;
    if (!any) {
      throw new SoftmaxError(
        'INVALID_OPTION',
        `${name} allows no id of row ${i}${stride === 0 ? ' (the one mask every row shares)' : ''}: no bit is set below cols (${cols}), so there is nothing to draw`,
      );
    }
  }
  return { words, stride };
};
