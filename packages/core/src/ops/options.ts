import { describeValue, SoftmaxError } from '../errors.js';
import type { FullyMasked } from '../types.js';
import type { OptionReader } from './declaration.js';

/** Option readers shared by the ops that take them. */

/**
 * `temperature`: the logits are divided by it.
 *
 * @example
 * ```ts
 * import { temperature } from '@softmax/core/backend';
 *
 * temperature(undefined, 'temperature'); // 1, the default
 * temperature(0.7, 'options.temperature'); // 0.7
 * temperature(0, 'temperature'); // throws SoftmaxError INVALID_OPTION naming temperature and 0
 * ```
 */
export const temperature: OptionReader<number> = (value, name) => {
  if (value === undefined) return 1;
  // Dividing by a non-positive or non-finite temperature has no limit that is a distribution.
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new SoftmaxError('INVALID_OPTION', `${name} must be a finite number > 0, got ${describeValue(value)}`);
  }
  return value;
};

const FULLY_MASKED: readonly FullyMasked[] = ['nan', 'zero'];

/**
 * `fullyMasked`: what a row of only −Infinity gives.
 *
 * @example
 * ```ts
 * import { fullyMasked } from '@softmax/core/backend';
 *
 * fullyMasked(undefined, 'fullyMasked'); // 'nan'
 * fullyMasked('zero', 'fullyMasked'); // 'zero'
 * ```
 */
export const fullyMasked: OptionReader<FullyMasked> = (value, name) => {
  if (value === undefined) return 'nan';
  if (!FULLY_MASKED.includes(value as FullyMasked)) {
    throw new SoftmaxError('INVALID_OPTION', `${name} must be 'nan' or 'zero', got ${describeValue(value)}`);
  }
  return value as FullyMasked;
};

/**
 * `reader` with its early part (OptionReader.early) set, as one expression: a bundle drops a pure
 * call it does not use, where it keeps an assignment statement (and the op it belongs to).
 */
export function withEarly<T>(reader: OptionReader<T>, early: NonNullable<OptionReader['early']>): OptionReader<T> {
  reader.early = early;
  return reader;
}
