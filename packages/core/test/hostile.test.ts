import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { checkLayout, OPS, validateCall } from '../src/backend.js';
import { logSoftmax, logSoftmaxBackward, SoftmaxError, softmax, softmaxBackward } from '../src/index.js';

/** The validated request of a softmax / softmaxBackward call, with its operands and options by name. */
const checkForward = (x: unknown, options?: unknown) => {
  const call = validateCall(OPS.softmax, [x, options]);
  return { ...call, ...call.options, x: call.inputs[0] };
};
const checkBackward = (y: unknown, dy: unknown, options?: unknown) => {
  const call = validateCall(OPS.softmaxBackward, [y, dy, options]);
  return { ...call, ...call.options, y: call.inputs[0], dy: call.inputs[1] };
};

/** Runs a call that must throw and returns the error. */
function thrown(call: () => unknown): SoftmaxError {
  try {
    call();
  } catch (error) {
    return error as SoftmaxError;
  }
  throw new Error('expected the call to throw');
}

function expectCode(call: () => unknown, code: string, ...parts: string[]): void {
  const error = thrown(call);
  expect(error, String(error)).toBeInstanceOf(SoftmaxError);
  expect(error.code, error.message).toBe(code);
  for (const part of parts) expect(error.message).toContain(part);
}

/** A number[] behind a Proxy that counts the reads of each index and answers `next(i, read)`. */
function countingArray(values: number[], next: (i: number, read: number) => unknown = (i) => values[i]) {
  const reads = new Map<PropertyKey, number>();
  const proxy = new Proxy(values, {
    get(target, key, receiver) {
      reads.set(key, (reads.get(key) ?? 0) + 1);
      if (typeof key === 'string' && /^\d+$/.test(key)) return next(Number(key), reads.get(key) ?? 0);
      return Reflect.get(target, key, receiver);
    },
  });
  return { proxy, reads };
}

/** A resizable ArrayBuffer (ES2024; the typings here are ES2022's). */
interface Resizable extends ArrayBuffer {
  resize(byteLength: number): void;
}
const Resizable = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => Resizable;

function detached(n: number, Type: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array) {
  const array = new Type(n).fill(1);
  structuredClone(array.buffer, { transfer: [array.buffer] });
  return array;
}

describe('number[] inputs are read once', () => {
  it('reads every element exactly once, and computes on the values read', () => {
    // The second read of any element would be NaN (or a BigInt, which Float64Array.from throws on).
    const { proxy, reads } = countingArray([1, 2, 3], (i, read) => (read === 1 ? [1, 2, 3][i] : 1n));
    expect(Array.from(softmax(proxy))).toEqual(Array.from(softmax([1, 2, 3])));
    for (const key of ['0', '1', '2']) expect(reads.get(key)).toBe(1);
    expect(reads.has(Symbol.iterator)).toBe(false);
  });

  it('ignores a custom iterator: the elements are the indexed values', () => {
    const values = [0, 1, 2];
    Object.defineProperty(values, Symbol.iterator, {
      value: function* () {
        yield* [Number.NaN, 5, 5, 5];
      },
    });
    expect(Array.from(logSoftmax(values))).toEqual(Array.from(logSoftmax(Float64Array.from([0, 1, 2]))));
  });

  it('reads an accessor element once, so it cannot pass the check and then change', () => {
    const values = [1, 2];
    let reads = 0;
    Object.defineProperty(values, 1, { get: () => (++reads === 1 ? 2 : Number.NaN) });
    const y = softmax(values);
    expect(reads).toBe(1);
    expect(Array.from(y)).toEqual(Array.from(softmax([1, 2])));
  });

  it('refuses a BigInt element, a lying length and a revoked Proxy as INVALID_INPUT', () => {
    expectCode(() => softmax([1, 2n, 3] as never), 'INVALID_INPUT', 'x[1]', '2n');
    for (const length of ['3', -1, 1.5, 2 ** 32, Number.NaN]) {
      const liar = new Proxy([1, 2, 3], { get: (t, k, r) => (k === 'length' ? length : Reflect.get(t, k, r)) });
      expectCode(() => softmax(liar), 'INVALID_INPUT', 'x.length must be an array length');
    }
    const { proxy, revoke } = Proxy.revocable([1, 2], {});
    revoke();
    expectCode(() => softmaxBackward(proxy, [1, 2]), 'INVALID_INPUT', 'y', 'revoked Proxy');
  });

  it('refuses an object that only inherits from Float32Array.prototype', () => {
    expectCode(() => softmax(Object.create(Float32Array.prototype)), 'INVALID_INPUT', 'x must be a Float32Array');
  });
});

describe('typed arrays are recognised by their internal slots', () => {
  it('accepts Float32Array and Float64Array from another realm, as inputs and as out', () => {
    const x32 = runInNewContext('new Float32Array([2, 1, 0.1])') as Float32Array;
    expect(x32 instanceof Float32Array).toBe(false);
    const y = softmax(x32);
    expect(y).toBeInstanceOf(Float32Array);
    expect(Array.from(y)).toEqual(Array.from(softmax(new Float32Array([2, 1, 0.1]))));
    const out = runInNewContext('new Float64Array(3)') as Float64Array;
    expect(softmax([2, 1, 0.1], { out })).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(softmax([2, 1, 0.1])));
    const dy = runInNewContext('new Float32Array([1, 0, -1])') as Float32Array;
    expect(checkBackward(y, dy, { out: x32 })).toMatchObject({ dtype: 'float32', rows: 1, cols: 3 });
    expectCode(() => softmax(runInNewContext('new Int8Array(2)')), 'UNSUPPORTED_DTYPE', 'x', 'Int8Array');
    expectCode(() => softmax([1, 2], { out: runInNewContext('new Float32Array(2)') }), 'INVALID_OPTION', 'options.out');
  });

  it('takes the length from the array itself, not from an own `length` property', () => {
    const x = new Float64Array([1, 2, 3, 4]);
    Object.defineProperty(x, 'length', { value: 2 });
    expect(checkForward(x, { cols: 2 })).toMatchObject({ rows: 2, cols: 2 });
    expect(softmax(x, { cols: 2 }).length).toBe(4);
  });

  it('refuses inputs whose buffer was detached instead of computing an empty result', () => {
    expectCode(() => softmax(detached(3)), 'INVALID_INPUT', 'x cannot be read', 'detached', 'Float64Array(0)');
    expectCode(() => logSoftmaxBackward(detached(2), new Float64Array(2)), 'INVALID_INPUT', 'y cannot be read');
    expectCode(() => softmaxBackward(new Float32Array(0), detached(2, Float32Array)), 'INVALID_INPUT', 'dy cannot');
    expectCode(() => softmax(new Float64Array(0), { out: detached(1) }), 'INVALID_OPTION', 'options.out', 'detached');
    // A genuinely empty array is still fine.
    expect(softmax(new Float64Array(0)).length).toBe(0);
  });

  it('refuses a view left outside a shrunk resizable buffer, follows a length-tracking one', () => {
    const buffer = new Resizable(32, { maxByteLength: 64 });
    const fixed = new Float64Array(buffer, 8, 2).fill(1);
    const tracking = new Float64Array(buffer).fill(0.5);
    buffer.resize(8);
    expectCode(() => softmax(fixed), 'INVALID_INPUT', 'x cannot be read', 'outside its resized buffer');
    expect(Array.from(softmax(tracking))).toEqual([1]);
    buffer.resize(24);
    expect(softmax(tracking).length).toBe(3);
  });
});

describe('views of one memory through different SharedArrayBuffer objects', () => {
  const values = [0.5, -1, 3, 2, 2, -4, 0, 1];

  it('computes right through an out that overlaps x unseen (a structuredClone of its buffer)', () => {
    for (const shift of [-2, -1, 0, 1, 3]) {
      const shared = new SharedArrayBuffer(8 * 16);
      const x = new Float64Array(shared, 8 * 4, 8);
      x.set(values);
      const out = new Float64Array(structuredClone(shared), 8 * (4 + shift), 8);
      const expected = Array.from(softmax(Float64Array.from(values), { cols: 4 }));
      expect(softmax(x, { cols: 4, out })).toBe(out);
      expect(Array.from(out), `shift ${shift}`).toEqual(expected);
    }
  });

  it('computes both gradients right when out overlaps y or dy through a clone', () => {
    // Rows of 2: a shifted out overwrites the next row's y or dy before it is read.
    const shared = new SharedArrayBuffer(4 * 24);
    const y = new Float32Array(shared, 0, 8);
    const dy = new Float32Array(shared, 4 * 8, 8);
    y.set(softmax(new Float32Array([1, 2, 3, 4, -1, 0.5, 2, 2]), { cols: 2 }));
    dy.set([1, -1, 0.5, 2, -3, 0.25, 4, 1]);
    const [ys, dys] = [y.slice(), dy.slice()];
    for (const op of [softmaxBackward, logSoftmaxBackward]) {
      for (const at of [1, 6, 9, 14]) {
        y.set(ys);
        dy.set(dys);
        const out = new Float32Array(structuredClone(shared), 4 * at, 8);
        const expected = Array.from(op(ys, dys, { cols: 2 }));
        op(y, dy, { cols: 2, out });
        expect(Array.from(out), `${op.name} out at ${at}`).toEqual(expected);
      }
    }
  });

  it('still refuses a partial overlap within one SharedArrayBuffer object', () => {
    const x = new Float32Array(new SharedArrayBuffer(40), 0, 8);
    expectCode(() => softmax(x, { out: new Float32Array(x.buffer, 8, 8) }), 'INVALID_OPTION', 'partially overlaps x');
  });

  it('copies nothing for unshared buffers or the very same range', () => {
    const x = new Float64Array(4);
    expect(checkForward(x, { out: new Float64Array(4) }).x).toBe(x);
    const shared = new Float64Array(new SharedArrayBuffer(32));
    expect(checkForward(shared, { out: shared }).x).toBe(shared);
    expect(checkForward(shared, { out: new Float64Array(4) }).x).toBe(shared);
  });
});

describe('options', () => {
  it.each([
    ['a Map', new Map([['cols', 2]]), 'Map'],
    ['a Date', new Date(0), 'Date'],
    [
      'a class instance',
      new (class Settings {
        cols = 2;
      })(),
      'Settings',
    ],
    ['an array', [2], 'Array(1)'],
  ])('refuses %s: options must be a plain object', (_, options, shown) => {
    expectCode(() => softmax([1, 2], options as never), 'INVALID_OPTION', 'options must be a plain object', shown);
    expectCode(() => softmaxBackward([1, 2], [1, 2], options as never), 'INVALID_OPTION', 'plain object');
    expectCode(() => checkLayout(options), 'INVALID_OPTION', 'plain object');
  });

  it('accepts a null-prototype object and a plain object of another realm', () => {
    const bare = Object.assign(Object.create(null), { cols: 2 });
    expect(checkForward([1, 2, 3, 4], bare)).toMatchObject({ rows: 2, cols: 2 });
    expect(checkForward([1, 2, 3, 4], runInNewContext('({ cols: 2 })'))).toMatchObject({ rows: 2 });
    expect(checkLayout(runInNewContext('({ rows: 1, cols: 2 })'))).toMatchObject({ rows: 1, cols: 2 });
  });

  it('reads each option exactly once, before the input, and the keys with Object.keys', () => {
    const gets: PropertyKey[] = [];
    const traps: string[] = [];
    const options = new Proxy(
      { cols: 2, temperature: 2 },
      {
        get(target, key, receiver) {
          gets.push(key);
          return Reflect.get(target, key, receiver);
        },
        ownKeys(target) {
          traps.push('ownKeys');
          return Reflect.ownKeys(target);
        },
      },
    );
    const request = checkForward([1, 2, 3, 4], options);
    expect(request).toMatchObject({ rows: 2, cols: 2, temperature: 2 });
    expect([...gets].sort()).toEqual(['cols', 'fullyMasked', 'out', 'temperature']);
    expect(traps).toEqual(['ownKeys']);
    gets.length = 0;
    checkBackward([1, 2], [1, 2], options);
    expect([...gets].sort()).toEqual(['cols', 'out', 'temperature']);
    gets.length = 0;
    const layout = new Proxy(
      { rows: 1, cols: 2 },
      {
        get(target, key, receiver) {
          gets.push(key);
          return Reflect.get(target, key, receiver);
        },
      },
    );
    checkLayout(layout);
    expect([...gets].sort()).toEqual(['cols', 'fullyMasked', 'rows', 'temperature']);
  });

  it('a getter that detaches the input makes the call fail, not read missing memory', () => {
    const x = new Float64Array([1, 2, 3, 4]);
    const options = {
      get cols() {
        structuredClone(x.buffer, { transfer: [x.buffer] });
        return 2;
      },
    };
    expectCode(() => softmax(x, options), 'INVALID_INPUT', 'x cannot be read', 'detached');
    const y = new Float64Array([0.5, 0.5]);
    const out = new Float64Array(2);
    const detachOut = {
      get temperature() {
        structuredClone(out.buffer, { transfer: [out.buffer] });
        return 1;
      },
      out,
    };
    expectCode(() => softmaxBackward(y, new Float64Array(2), detachOut), 'INVALID_OPTION', 'options.out');
  });

  it('a getter that shrinks the input is seen before the shape is checked', () => {
    const buffer = new Resizable(8 * 6, { maxByteLength: 8 * 6 });
    const x = new Float64Array(buffer);
    x.set([1, 2, 3, 4, 5, 6]);
    const options = {
      get cols() {
        buffer.resize(8 * 4);
        return 2;
      },
    };
    const y = softmax(x, options);
    expect(Array.from(y)).toEqual(Array.from(softmax([1, 2, 3, 4], { cols: 2 })));
    const resizable = new Resizable(32, { maxByteLength: 32 });
    const fixed = new Float64Array(resizable, 0, 4);
    const shrink = {
      get temperature() {
        resizable.resize(16);
        return 1;
      },
    };
    expectCode(() => logSoftmax(fixed, shrink), 'INVALID_INPUT', 'outside its resized buffer');
  });

  it('keeps reporting an input error before an options error', () => {
    expectCode(() => softmax('abc' as never, new Map() as never), 'INVALID_INPUT', 'x');
    expectCode(() => softmax([1, 'a'] as never, { dim: 1 } as never), 'INVALID_INPUT', 'x[1]');
    expectCode(
      () => softmaxBackward(new Float64Array(2), new Float32Array(2) as never, 5 as never),
      'UNSUPPORTED_DTYPE',
    );
  });
});
