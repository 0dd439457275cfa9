/**
 * Stable error codes. Callers switch on `code`, never on the message text, so
 * codes are never renamed once published.
 */
export type SoftmaxErrorCode =
  | 'INVALID_INPUT'
  | 'UNSUPPORTED_DTYPE'
  | 'INVALID_SHAPE'
  | 'INVALID_OPTION'
  | 'BACKEND_UNAVAILABLE'
  | 'DEVICE_LOST'
  | 'UNSUPPORTED_OP';

/**
 * The brand every copy of @softmax/core puts on its SoftmaxError: `Symbol.for` is one symbol per
 * realm's registry, so it is the same in the CommonJS and the ESM build, and in two installed
 * copies (the dual-package hazard, where each has its own class and plain `instanceof` says no).
 */
const BRAND = Symbol.for('@softmax/core/SoftmaxError');

/**
 * The one error type every `@softmax` package throws (or rejects with).
 *
 * @example
 * ```ts
 * import { SoftmaxError, softmax } from '@softmax/core';
 *
 * try {
 *   softmax([1, 2, 3], { temperature: 0 });
 * } catch (error) {
 *   if (error instanceof SoftmaxError && error.code === 'INVALID_OPTION') console.log(error.message); // names temperature and 0
 * }
 * ```
 */
export class SoftmaxError extends Error {
  /** Which rule the input broke (stable: switch on it, never on the message). */
  readonly code: SoftmaxErrorCode;

  constructor(code: SoftmaxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SoftmaxError';
    this.code = code;
  }

  /**
   * `error instanceof SoftmaxError` is true for a SoftmaxError of any copy of this package (one
   * loaded by `require`, another by `import`). A subclass keeps the ordinary prototype check.
   */
  static [Symbol.hasInstance](value: unknown): value is SoftmaxError {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the right operand of instanceof, a subclass too
    if (this !== SoftmaxError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}
Object.defineProperty(SoftmaxError.prototype, BRAND, { value: true });

/**
 * Short, readable rendering of an offending value for error messages.
 *
 * @example
 * ```ts
 * import { describeValue } from '@softmax/core/backend';
 *
 * describeValue(-0); // '-0'
 * describeValue('a'.repeat(50)); // the first 40 characters, quoted, then '…'
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (ArrayBuffer.isView(value)) {
    const length = 'length' in value ? (value as { length: number }).length : value.byteLength;
    return `${value.constructor.name}(${length})`;
  }
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return String(value);
}
