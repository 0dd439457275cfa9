import type { Dtype, FloatArray, SoftmaxErrorCode } from '@softmax/core';
import type { DtypeInfo } from './dtypes.js';

/**
 * Hostile inputs as data: arrays over unusual memory (shared, resizable, detached, another realm,
 * odd offsets), number[] that answer differently when read twice, option objects that are not
 * plain or whose getters change the inputs, every extreme temperature and subnormal inputs. Each
 * case states what the contract promises: a correct result (against the oracle, within the
 * backend's bound) or a SoftmaxError with a given code; and that the inputs come back unchanged.
 */

/**
 * Row length of the cases: inputs are 2 × 4.
 *
 * @example
 * ```ts
 * import { HOSTILE_COLS, HOSTILE_LOGITS } from '@softmax/conformance/helpers';
 *
 * myBackend.softmax(new Float32Array(HOSTILE_LOGITS), { cols: HOSTILE_COLS }); // 2 rows of 4
 * ```
 */
export const HOSTILE_COLS = 4;
/**
 * The forward cases' logits.
 *
 * @example
 * ```ts
 * import { HOSTILE_LOGITS, oracleSoftmax } from '@softmax/conformance/helpers';
 *
 * const ref = oracleSoftmax(HOSTILE_LOGITS, { cols: 4 }); // what a hostile wrapper of them must still give
 * ```
 */
export const HOSTILE_LOGITS: readonly number[] = [0.5, -1.25, 3, 2, 2, -4, 0, 1.5];
/**
 * The backward cases' upstream gradient (y is the method's forward of HOSTILE_LOGITS).
 *
 * @example
 * ```ts
 * import { HOSTILE_UPSTREAM, oracleSoftmaxBackward } from '@softmax/conformance/helpers';
 *
 * const ref = oracleSoftmaxBackward(y, HOSTILE_UPSTREAM, { cols: 4 });
 * ```
 */
export const HOSTILE_UPSTREAM: readonly number[] = [0.5, -1, 0.25, 2, 1, -0.75, 0, 1];

/**
 * Every extreme finite temperature, from the smallest subnormal to the largest value.
 *
 * @example
 * ```ts
 * import { EXTREME_TEMPERATURES } from '@softmax/conformance/helpers';
 *
 * for (const temperature of EXTREME_TEMPERATURES) myBackend.softmax([1, 2, 3], { temperature });
 * ```
 */
export const EXTREME_TEMPERATURES: readonly number[] = [
  Number.MIN_VALUE,
  1e-310,
  1e-300,
  1e-38,
  1e-30,
  1e30,
  1e38,
  3.5e38,
  1e39,
  1e300,
  Number.MAX_VALUE,
];

/** Which methods a hostile case runs: the forward ops or the gradients. */
export type HostileKind = 'forward' | 'backward';
/** What a case needs from the environment (a browser may lack node:vm or SharedArrayBuffer). */
export type HostileNeed = 'SharedArrayBuffer' | 'resizable ArrayBuffer' | 'node:vm';

/** What a hostile case is built from: the dtype, the kind of method, its inputs and its forward in the oracle. */
export interface HostileEnv {
  /** The dtype. */
  d: DtypeInfo;
  /** The kind of method. */
  kind: HostileKind;
  /** The inputs as values of the dtype: [x], or [y, dy] with y the method's forward of HOSTILE_LOGITS. */
  inputs: number[][];
  /** The method's forward in the oracle, as values of the dtype (to make y at another temperature). */
  forward: (x: readonly number[], options: { cols?: number; temperature?: number }) => number[];
  /** node:vm's runInNewContext (present for the cases that need 'node:vm'). */
  runInNewContext?: (code: string) => unknown;
}

/** A hostile call: its arguments, and what must stay unchanged. */
export interface HostileCall {
  /** The arguments: the input(s), then the options (which may be hostile themselves). */
  args: unknown[];
  /** For a result: the values the contract computes on. Default: env.inputs. */
  values?: number[][];
  /** For a result: the shape and temperature computed with. Default: { cols: HOSTILE_COLS }. */
  shape?: { cols?: number; temperature?: number };
  /** The result must be this very array (the call's `out`). */
  out?: unknown;
  /**
   * Views that must hold the same bytes after the call. Default: the typed-array arguments
   * (never `out`). A case whose `out` overlaps an input lists what stays untouched instead.
   */
  unchanged?: ArrayBufferView[];
}

/**
 * An input built to trip an implementation (getters, species, detached or shared buffers), and what the contract promises for it.
 */
export interface HostileCase {
  /** A readable name, printed by the suite. */
  name: string;
  /** Which methods run it: 'forward' (softmax, logSoftmax), 'backward' (both gradients). Default both. */
  kinds?: readonly HostileKind[];
  /** Only for these dtypes (a number[] computes as float64). Default: every dtype the backend lists. */
  dtypes?: readonly Dtype[];
  /** What the runtime must offer for the case to run. */
  needs?: readonly HostileNeed[];
  /** Builds the call, fresh for each run. */
  make: (env: HostileEnv) => HostileCall;
  /** What the contract promises. */
  expect: { result: true } | { code: SoftmaxErrorCode };
}

const RESULT = { result: true } as const;
const options = { cols: HOSTILE_COLS };

/** A resizable ArrayBuffer (ES2024; the typings here are ES2022's). */
interface Resizable extends ArrayBuffer {
  resize(byteLength: number): void;
}
const Resizable = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => Resizable;

function typed(env: HostileEnv, values: readonly number[]): FloatArray {
  return env.d.ArrayType.from(values);
}

/** `values` written at element `at` of `buffer`, as a view of exactly their length. */
function viewAt(env: HostileEnv, buffer: ArrayBufferLike, at: number, values: readonly number[]): FloatArray {
  const view = new env.d.ArrayType(buffer as ArrayBuffer, at * env.d.ArrayType.BYTES_PER_ELEMENT, values.length);
  view.set(values);
  return view;
}

function bytes(env: HostileEnv, elements: number): number {
  return elements * env.d.ArrayType.BYTES_PER_ELEMENT;
}

function detach(buffer: ArrayBufferLike): void {
  structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
}

function detached(env: HostileEnv, n: number): FloatArray {
  const array = new env.d.ArrayType(n).fill(1);
  detach(array.buffer);
  return array;
}

/** Length-tracking views of resizable buffers holding the inputs. */
function tracking(env: HostileEnv): { arrays: FloatArray[]; buffers: Resizable[] } {
  const buffers = env.inputs.map((v) => new Resizable(bytes(env, v.length), { maxByteLength: bytes(env, 64) }));
  const arrays = buffers.map((b, i) => {
    const view = new env.d.ArrayType(b);
    view.set(env.inputs[i]);
    return view;
  });
  return { arrays, buffers };
}

/**
 * All inputs in one SharedArrayBuffer, two elements apart, and an `out` of the same length over a
 * structuredClone of it (another object, the same memory), `shift` elements from the last input.
 */
function sharedWithCloneOut(env: HostileEnv, shift: number): HostileCall {
  const n = env.inputs[0].length;
  const shared = new SharedArrayBuffer(bytes(env, 4 + env.inputs.length * (n + 2)));
  const arrays = env.inputs.map((v, i) => viewAt(env, shared, 2 + i * (n + 2), v));
  const last = 2 + (env.inputs.length - 1) * (n + 2);
  const out = new env.d.ArrayType(structuredClone(shared) as unknown as ArrayBuffer, bytes(env, last + shift), n);
  // Only what lies before the first byte `out` may write stays unchanged.
  const untouched = arrays.filter((_, i) => 2 + i * (n + 2) + n <= last + shift);
  return { args: [...arrays, { ...options, out }], out, unchanged: untouched };
}

/** A number[] behind a Proxy whose every second read of an element is NaN (first reads: the values). */
function readTwiceIsNaN(values: readonly number[]): number[] {
  const reads = new Map<PropertyKey, number>();
  return new Proxy([...values], {
    get(target, key, receiver) {
      const n = (reads.get(key) ?? 0) + 1;
      reads.set(key, n);
      if (typeof key === 'string' && /^\d+$/.test(key) && n > 1) return Number.NaN;
      return Reflect.get(target, key, receiver);
    },
  });
}

/** The first input replaced by `first` (a forward's x, a backward's y). */
function withFirst(env: HostileEnv, first: unknown): unknown[] {
  return [first, ...env.inputs.slice(1).map((v) => typed(env, v))];
}

function temperatureCases(T: number): HostileCase[] {
  const label = T === Number.MIN_VALUE ? 'Number.MIN_VALUE' : T === Number.MAX_VALUE ? 'Number.MAX_VALUE' : String(T);
  // Logits near 0 make z = x/T extreme (one-hot or uniform); logits scaled by T keep z moderate.
  return [
    { logits: HOSTILE_LOGITS, how: 'logits near 0' },
    { logits: HOSTILE_LOGITS.map((v) => v * T), how: 'logits scaled by it' },
  ].map(({ logits, how }) => ({
    name: `temperature ${label}, ${how}`,
    make: (env) => {
      const x = Array.from(typed(env, logits));
      const shape = { cols: HOSTILE_COLS, temperature: T };
      const values = env.kind === 'forward' ? [x] : [env.forward(x, shape), env.inputs[1]];
      return { args: [...values.map((v) => typed(env, v)), shape], values, shape };
    },
    expect: RESULT,
  }));
}

/**
 * The hostile inputs every backend must survive: right results or the promised SoftmaxError, the caller's data untouched.
 *
 * @example
 * ```ts
 * import { DTYPES, HOSTILE_CASES, HOSTILE_LOGITS, oracleSoftmax } from '@softmax/conformance/helpers';
 *
 * const forward = (x: readonly number[], o: { cols?: number; temperature?: number }) =>
 *   Array.from(oracleSoftmax(x, { ...o, dtype: 'float32' }));
 * const env = { d: DTYPES.float32, kind: 'forward' as const, inputs: [[...HOSTILE_LOGITS]], forward };
 * for (const c of HOSTILE_CASES.filter((c) => !c.needs && (c.kinds ?? ['forward']).includes('forward'))) {
 *   const call = c.make(env); // fresh arguments for each run: call.args, then what must stay unchanged
 * }
 * ```
 */
export const HOSTILE_CASES: readonly HostileCase[] = [
  // Memory the inputs live in.
  {
    name: 'inputs over a SharedArrayBuffer',
    needs: ['SharedArrayBuffer'],
    make: (env) => ({
      args: [...env.inputs.map((v) => viewAt(env, new SharedArrayBuffer(bytes(env, v.length)), 0, v)), options],
    }),
    expect: RESULT,
  },
  {
    name: 'out over a structuredClone of the inputs’ SharedArrayBuffer, one element past the last input',
    needs: ['SharedArrayBuffer'],
    make: (env) => sharedWithCloneOut(env, 1),
    expect: RESULT,
  },
  {
    name: 'out over a structuredClone of the inputs’ SharedArrayBuffer, one element before the last input',
    needs: ['SharedArrayBuffer'],
    make: (env) => sharedWithCloneOut(env, -1),
    expect: RESULT,
  },
  {
    name: 'out over a structuredClone of the inputs’ SharedArrayBuffer, exactly the last input (in place)',
    needs: ['SharedArrayBuffer'],
    make: (env) => sharedWithCloneOut(env, 0),
    expect: RESULT,
  },
  {
    name: 'out partially overlapping the first input within one SharedArrayBuffer',
    needs: ['SharedArrayBuffer'],
    make: (env) => {
      const n = env.inputs[0].length;
      const shared = new SharedArrayBuffer(bytes(env, n + 1));
      const first = viewAt(env, shared, 0, env.inputs[0]);
      return {
        args: [
          ...withFirst(env, first),
          { ...options, out: new env.d.ArrayType(shared as unknown as ArrayBuffer, bytes(env, 1), n) },
        ],
      };
    },
    expect: { code: 'INVALID_OPTION' },
  },
  {
    name: 'inputs over resizable ArrayBuffers (length-tracking views)',
    needs: ['resizable ArrayBuffer'],
    make: (env) => ({ args: [...tracking(env).arrays, options] }),
    expect: RESULT,
  },
  {
    name: 'the first input left outside its shrunk resizable buffer',
    needs: ['resizable ArrayBuffer'],
    make: (env) => {
      const n = env.inputs[0].length;
      const buffer = new Resizable(bytes(env, n + 2), { maxByteLength: bytes(env, n + 2) });
      const first = viewAt(env, buffer, 2, env.inputs[0]);
      buffer.resize(bytes(env, n));
      return { args: [...withFirst(env, first), options] };
    },
    expect: { code: 'INVALID_INPUT' },
  },
  {
    name: 'the first input over a detached buffer',
    make: (env) => ({ args: [...withFirst(env, detached(env, env.inputs[0].length)), options] }),
    expect: { code: 'INVALID_INPUT' },
  },
  {
    name: 'the last input over a detached buffer',
    kinds: ['backward'],
    make: (env) => ({ args: [typed(env, env.inputs[0]), detached(env, env.inputs[1].length), options] }),
    expect: { code: 'INVALID_INPUT' },
  },
  {
    name: 'out over a detached buffer',
    make: (env) => ({
      args: [...env.inputs.map((v) => typed(env, v)), { ...options, out: detached(env, env.inputs[0].length) }],
    }),
    expect: { code: 'INVALID_OPTION' },
  },
  {
    name: 'empty inputs and an empty out over a detached buffer',
    make: (env) => ({ args: [...env.inputs.map(() => new env.d.ArrayType(0)), { out: detached(env, 0) }] }),
    expect: { code: 'INVALID_OPTION' },
  },
  {
    name: 'inputs from another realm (node:vm)',
    needs: ['node:vm'],
    make: (env) => {
      const foreign = env.inputs.map((v) => {
        const array = env.runInNewContext?.(`new ${env.d.ArrayType.name}(${v.length})`) as FloatArray;
        array.set(v);
        return array;
      });
      return { args: [...foreign, options] };
    },
    expect: RESULT,
  },
  {
    name: 'out from another realm (node:vm)',
    needs: ['node:vm'],
    make: (env) => {
      const out = env.runInNewContext?.(`new ${env.d.ArrayType.name}(${env.inputs[0].length})`);
      return { args: [...env.inputs.map((v) => typed(env, v)), { ...options, out }], out };
    },
    expect: RESULT,
  },
  {
    name: 'an Int16Array from another realm as the first input',
    needs: ['node:vm'],
    make: (env) => ({ args: [...withFirst(env, env.runInNewContext?.('new Int16Array(8)')), options] }),
    expect: { code: 'UNSUPPORTED_DTYPE' },
  },
  {
    name: 'views at odd element offsets into larger buffers, out too; the neighbours untouched',
    make: (env) => {
      const n = env.inputs[0].length;
      const A = env.d.ArrayType;
      const guarded = (at: number, values: readonly number[]) => {
        const whole = new A(at + n + 5).fill(7.25);
        const view = viewAt(env, whole.buffer, at, values);
        return { view, guards: [whole.subarray(0, at), whole.subarray(at + n)] };
      };
      const inputs = env.inputs.map((v, i) => guarded(3 + 2 * i, v));
      const out = guarded(5, new Array(n).fill(-1));
      return {
        args: [...inputs.map((g) => g.view), { ...options, out: out.view }],
        out: out.view,
        unchanged: [...inputs.flatMap((g) => [g.view, ...g.guards]), ...out.guards],
      };
    },
    expect: RESULT,
  },
  {
    name: 'inputs with an own `length` property that lies',
    make: (env) => {
      const arrays = env.inputs.map((v) => Object.defineProperty(typed(env, v), 'length', { value: 2 }));
      return { args: [...arrays, options] };
    },
    expect: RESULT,
  },
  // number[] whose reads are not plain (each element must be read once: check, then compute on it).
  {
    name: 'a number[] behind a Proxy whose second read of an element is NaN',
    dtypes: ['float64'],
    make: (env) => ({ args: [...withFirst(env, readTwiceIsNaN(env.inputs[0])), options] }),
    expect: RESULT,
  },
  {
    name: 'a number[] whose accessor element turns NaN after one read',
    dtypes: ['float64'],
    make: (env) => {
      const first = [...env.inputs[0]];
      let reads = 0;
      const value = first[1];
      Object.defineProperty(first, 1, { get: () => (++reads === 1 ? value : Number.NaN) });
      return { args: [...withFirst(env, first), options] };
    },
    expect: RESULT,
  },
  {
    name: 'a number[] with a custom Symbol.iterator that yields other values',
    dtypes: ['float64'],
    make: (env) => {
      const first = [...env.inputs[0]];
      Object.defineProperty(first, Symbol.iterator, {
        value: function* () {
          yield* [Number.NaN, 1e300, -1];
        },
      });
      return { args: [...withFirst(env, first), options] };
    },
    expect: RESULT,
  },
  {
    name: 'a number[] holding a BigInt',
    dtypes: ['float64'],
    make: (env) => ({ args: [...withFirst(env, [1, 2n, 3, 4]), options] }),
    expect: { code: 'INVALID_INPUT' },
  },
  {
    name: 'a number[] behind a Proxy claiming length 2^32',
    dtypes: ['float64'],
    make: (env) => {
      const liar = new Proxy([...env.inputs[0]], {
        get: (target, key, receiver) => (key === 'length' ? 2 ** 32 : Reflect.get(target, key, receiver)),
      });
      return { args: [...withFirst(env, liar), options] };
    },
    expect: { code: 'INVALID_INPUT' },
  },
  {
    name: 'a revoked Proxy as the first input',
    make: (env) => {
      const { proxy, revoke } = Proxy.revocable([...env.inputs[0]], {});
      revoke();
      return { args: [...withFirst(env, proxy), options] };
    },
    expect: { code: 'INVALID_INPUT' },
  },
  // Options that are not plain objects, or whose getters act on the inputs.
  ...(
    [
      ['a Map', () => new Map([['cols', HOSTILE_COLS]])],
      ['a Date', () => new Date(0)],
      [
        'a class instance',
        () =>
          new (class Options {
            cols = HOSTILE_COLS;
          })(),
      ],
      ['an array', () => [HOSTILE_COLS]],
    ] as const
  ).map(
    ([what, make]): HostileCase => ({
      name: `options that are ${what}`,
      make: (env) => ({ args: [...env.inputs.map((v) => typed(env, v)), make()] }),
      expect: { code: 'INVALID_OPTION' },
    }),
  ),
  {
    name: 'an options getter that detaches the first input',
    make: (env) => {
      const args = env.inputs.map((v) => typed(env, v));
      const first = args[0];
      const hostile = {
        get cols() {
          detach(first.buffer);
          return HOSTILE_COLS;
        },
      };
      return { args: [...args, hostile], unchanged: args.slice(1) };
    },
    expect: { code: 'INVALID_INPUT' },
  },
  {
    name: 'an options getter that shrinks length-tracking inputs to one row',
    needs: ['resizable ArrayBuffer'],
    make: (env) => {
      const { arrays, buffers } = tracking(env);
      const hostile = {
        get cols() {
          for (const b of buffers) b.resize(bytes(env, HOSTILE_COLS));
          return HOSTILE_COLS;
        },
      };
      // What is left of each input after the getter: its first row.
      const rows = buffers.map((b) => new env.d.ArrayType(b, 0, HOSTILE_COLS));
      return { args: [...arrays, hostile], values: env.inputs.map((v) => v.slice(0, HOSTILE_COLS)), unchanged: rows };
    },
    expect: RESULT,
  },
  {
    name: 'an options getter that leaves the first input outside its shrunk buffer',
    needs: ['resizable ArrayBuffer'],
    make: (env) => {
      const n = env.inputs[0].length;
      const buffer = new Resizable(bytes(env, n), { maxByteLength: bytes(env, n) });
      const first = viewAt(env, buffer, 0, env.inputs[0]);
      const hostile = {
        get temperature() {
          buffer.resize(bytes(env, HOSTILE_COLS));
          return 1;
        },
        cols: HOSTILE_COLS,
      };
      const args = withFirst(env, first);
      const kept = new env.d.ArrayType(buffer, 0, HOSTILE_COLS);
      return { args: [...args, hostile], unchanged: [kept, ...(args.slice(1) as FloatArray[])] };
    },
    expect: { code: 'INVALID_INPUT' },
  },
  {
    name: 'an options getter that detaches out',
    make: (env) => {
      const out = new env.d.ArrayType(env.inputs[0].length);
      const hostile = {
        get cols() {
          detach(out.buffer);
          return HOSTILE_COLS;
        },
        out,
      };
      return { args: [...env.inputs.map((v) => typed(env, v)), hostile] };
    },
    expect: { code: 'INVALID_OPTION' },
  },
  {
    name: 'options getters that answer differently when read again',
    make: (env) => {
      let colsReads = 0;
      let temperatureReads = 0;
      const hostile = {
        get cols() {
          return colsReads++ === 0 ? HOSTILE_COLS : 2;
        },
        get temperature() {
          return temperatureReads++ === 0 ? 1 : 1e-300;
        },
      };
      return { args: [...env.inputs.map((v) => typed(env, v)), hostile] };
    },
    expect: RESULT,
  },
  // Every extreme temperature, for every function.
  ...EXTREME_TEMPERATURES.flatMap(temperatureCases),
  // Subnormal inputs (for float32 1e-40 is subnormal, for float64 1e-310).
  {
    name: 'subnormal logits',
    kinds: ['forward'],
    make: (env) => {
      const { minSubnormal: s, minNormal: n } = env.d;
      const x = [s, 0, -s, 3 * s, n / 2, -n / 4, 0, -0];
      return { args: [typed(env, x), options], values: [x] };
    },
    expect: RESULT,
  },
  {
    name: 'subnormal logits beside normal ones',
    kinds: ['forward'],
    make: (env) => {
      const { minSubnormal: s, minNormal: n } = env.d;
      const x = [1, s, -s, 0, -1, n / 2, 2 * s, 0.5];
      return { args: [typed(env, x), options], values: [x] };
    },
    expect: RESULT,
  },
  {
    name: 'a subnormal y (softmaxBackward([1, sub, 0, 0], [0, 1e20, 0, 0]) ≈ [−1e20·sub, 1e20·sub, 0, 0])',
    kinds: ['backward'],
    make: (env) => {
      const sub = env.d.name === 'float32' ? 1e-40 : 1e-310;
      const values = [
        Array.from(typed(env, [1, sub, 0, 0, 0.25, 0.25, 0.25, 0.25])),
        Array.from(typed(env, [0, 1e20, 0, 0, 1, 2, 3, 4])),
      ];
      return { args: [...values.map((v) => typed(env, v)), options], values };
    },
    expect: RESULT,
  },
  {
    name: 'a subnormal dy',
    kinds: ['backward'],
    make: (env) => {
      const { minSubnormal: s, minNormal: n } = env.d;
      const values = [env.inputs[0], [s, -s, 3 * s, 0, n / 2, -n / 4, 1, -1]];
      return { args: [...values.map((v) => typed(env, v)), options], values };
    },
    expect: RESULT,
  },
];
