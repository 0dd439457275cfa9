import { describe, expect, it } from 'vitest';
import { checkLayout, describeValue, OPS, validateCall } from '../src/backend.js';
import type { Dtype } from '../src/index.js';
import { logSoftmax, logSoftmaxBackward, SoftmaxError, softmax, softmaxBackward } from '../src/index.js';

type Call = () => unknown;

/** Runs a call that must throw and returns the error. */
function thrown(call: Call): SoftmaxError {
  try {
    call();
  } catch (error) {
    return error as SoftmaxError;
  }
  throw new Error('expected the call to throw');
}

const f32 = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 0.25);
const f64 = (n: number) => Float64Array.from({ length: n }, (_, i) => i - 0.5);

/** [name, call, code, substrings of the message that name the argument and the value]. */
const CASES: [string, Call, string, string[]][] = [
  ['x is a string', () => softmax('abc' as never), 'INVALID_INPUT', ['x', '"abc"']],
  ['x is null', () => logSoftmax(null as never), 'INVALID_INPUT', ['x', 'null']],
  ['x holds a boolean', () => softmax([1, true, 3] as never), 'INVALID_INPUT', ['x[1]', 'true']],
  ['x is a BigInt64Array', () => softmax(new BigInt64Array(2) as never), 'UNSUPPORTED_DTYPE', ['x', 'BigInt64Array']],
  ['x is an Int8Array', () => softmax(new Int8Array(2) as never), 'UNSUPPORTED_DTYPE', ['x', 'Int8Array']],
  ['cols 0', () => softmax(f32(4), { cols: 0 }), 'INVALID_SHAPE', ['options.cols', '0']],
  ['cols 1.5', () => softmax(f32(3), { cols: 1.5 }), 'INVALID_SHAPE', ['options.cols', '1.5']],
  ['cols -0', () => softmax(f32(3), { cols: -0 }), 'INVALID_SHAPE', ['options.cols', '-0']],
  ['cols does not divide the length', () => softmax(f64(7), { cols: 3 }), 'INVALID_SHAPE', ['x.length', '7', '3']],
  ['temperature 0', () => softmax(f64(3), { temperature: 0 }), 'INVALID_OPTION', ['options.temperature', '0']],
  [
    'temperature -Infinity',
    () => logSoftmax(f64(3), { temperature: -Infinity }),
    'INVALID_OPTION',
    ['options.temperature', '-Infinity'],
  ],
  [
    'temperature as a string',
    () => softmax(f64(3), { temperature: '2' as never }),
    'INVALID_OPTION',
    ['options.temperature', '"2"'],
  ],
  [
    'fullyMasked unknown',
    () => softmax(f64(3), { fullyMasked: 'inf' as never }),
    'INVALID_OPTION',
    ['options.fullyMasked', '"inf"'],
  ],
  [
    'unknown option key',
    () => softmax(f64(3), { dim: -1 } as never),
    'INVALID_OPTION',
    ['options.dim', 'expected one of'],
  ],
  ['options not an object', () => softmax(f64(3), 'fast' as never), 'INVALID_OPTION', ['options', '"fast"']],
  ['options an array', () => softmax(f64(3), [] as never), 'INVALID_OPTION', ['options', 'Array(0)']],
  [
    'out of the other type',
    () => softmax(f32(3), { out: new Float64Array(3) }),
    'INVALID_OPTION',
    ['options.out', 'Float32Array', 'Float64Array(3)'],
  ],
  [
    'out too short',
    () => softmax(f64(3), { out: new Float64Array(2) }),
    'INVALID_OPTION',
    ['options.out', 'length 3', 'Float64Array(2)'],
  ],
  [
    'number[] with a Float32Array out',
    () => softmax([1, 2], { out: new Float32Array(2) }),
    'INVALID_OPTION',
    ['options.out', 'Float64Array'],
  ],
  ['backward: dy missing', () => softmaxBackward(f64(3), undefined as never), 'INVALID_INPUT', ['dy', 'undefined']],
  [
    'backward: y of an unsupported type',
    () => logSoftmaxBackward(new Uint16Array(3) as never, f64(3)),
    'UNSUPPORTED_DTYPE',
    ['y', 'Uint16Array'],
  ],
  [
    'backward: mixed float types',
    () => softmaxBackward(f32(3), f64(3) as never),
    'UNSUPPORTED_DTYPE',
    ['y: Float32Array(3)', 'dy: Float64Array(3)'],
  ],
  ['backward: lengths differ', () => softmaxBackward(f64(3), f64(2)), 'INVALID_SHAPE', ['y.length 3', 'dy.length 2']],
  [
    'backward: cols does not divide',
    () => softmaxBackward(f64(4), f64(4), { cols: 3 }),
    'INVALID_SHAPE',
    ['y.length', '4', '3'],
  ],
  [
    'backward: fullyMasked is unknown here',
    () => softmaxBackward(f64(3), f64(3), { fullyMasked: 'nan' } as never),
    'INVALID_OPTION',
    ['options.fullyMasked'],
  ],
  [
    'backward: temperature NaN',
    () => logSoftmaxBackward(f64(3), f64(3), { temperature: Number.NaN }),
    'INVALID_OPTION',
    ['options.temperature', 'NaN'],
  ],
];

describe('validation', () => {
  it.each(CASES)('%s → %s', (_, call, code, parts) => {
    const error = thrown(call);
    expect(error).toBeInstanceOf(SoftmaxError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SoftmaxError');
    expect(error.code).toBe(code);
    for (const part of parts) expect(error.message).toContain(part);
  });

  it('leaves every argument unchanged when it rejects', () => {
    const x = f32(6);
    const out = new Float32Array(5);
    const before = [x.slice(), out.slice()];
    expect(thrown(() => softmax(x, { out: out as never })).code).toBe('INVALID_OPTION');
    expect(thrown(() => softmax(x, { cols: 4 })).code).toBe('INVALID_SHAPE');
    expect([x, out]).toEqual(before);
    const y = f64(4);
    const dy = f64(4);
    const ys = [y.slice(), dy.slice()];
    expect(thrown(() => softmaxBackward(y, dy, { temperature: -1 })).code).toBe('INVALID_OPTION');
    expect([y, dy]).toEqual(ys);
  });

  it('rejects an out that partially overlaps an input, and accepts out === input or a disjoint view', () => {
    const buffer = new Float64Array(8);
    buffer.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const x = buffer.subarray(0, 4);
    const shifted = buffer.subarray(2, 6);
    expect(thrown(() => softmax(x, { out: shifted })).message).toContain('options.out partially overlaps x');
    expect(thrown(() => softmaxBackward(x, f64(4), { out: shifted })).message).toContain('partially overlaps y');
    expect(thrown(() => logSoftmaxBackward(f64(4), x, { out: shifted })).message).toContain('partially overlaps dy');
    expect(Array.from(buffer)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const disjoint = buffer.subarray(4, 8);
    expect(softmax(x, { out: disjoint })).toBe(disjoint);
    expect(Array.from(x)).toEqual([1, 2, 3, 4]);
    expect(softmax(x, { out: x })).toBe(x);
    expect(Array.from(x)).toEqual(Array.from(disjoint));
  });

  const checkForward = (x: unknown, options?: unknown, dtypes?: Dtype[]) =>
    validateCall(OPS.softmax, [x, options], dtypes);
  const checkBackward = (y: unknown, dy: unknown, options?: unknown, dtypes?: Dtype[]) =>
    validateCall(OPS.softmaxBackward, [y, dy, options], dtypes);

  it('restricts dtypes when a backend passes its list', () => {
    const error = thrown(() => checkForward(new Float64Array(2), undefined, ['float32']));
    expect(error.code).toBe('UNSUPPORTED_DTYPE');
    expect(error.message).toContain('Float64Array');
    expect(error.message).toContain('float32');
    expect(thrown(() => checkForward([1, 2], undefined, ['float32'])).message).toContain('number[]');
    expect(thrown(() => checkBackward(new Float32Array(2), new Float32Array(2), undefined, ['float64'])).code).toBe(
      'UNSUPPORTED_DTYPE',
    );
  });

  it('normalises the request: shape, defaults, number[] copied to Float64Array', () => {
    const values = [1, 2, 3, 4, 5, 6];
    const request = checkForward(values, { cols: 3 });
    expect(request).toMatchObject({
      dtype: 'float64',
      rows: 2,
      cols: 3,
      options: { temperature: 1, fullyMasked: 'nan' },
      provided: [false],
    });
    expect(request.inputs[0]).toBeInstanceOf(Float64Array);
    expect(Array.from(request.inputs[0])).toEqual(values);
    expect(checkForward(new Float32Array(0))).toMatchObject({ rows: 0, cols: 0 });
    expect(checkForward(new Float32Array(0), { cols: 5 })).toMatchObject({ rows: 0, cols: 5 });
    expect(checkBackward(f32(4), f32(4), { cols: 2, temperature: 3 })).toMatchObject({
      dtype: 'float32',
      rows: 2,
      cols: 2,
      options: { temperature: 3 },
    });
  });

  it('describes values briefly in messages', () => {
    expect(describeValue(-0)).toBe('-0');
    expect(describeValue('x'.repeat(50))).toBe(`"${'x'.repeat(40)}…"`);
    expect(describeValue(3n)).toBe('3n');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue(new Float32Array(7))).toBe('Float32Array(7)');
    expect(describeValue(new DataView(new ArrayBuffer(3)))).toBe('DataView(3)');
    expect(describeValue(new Map())).toBe('Map');
  });
});

describe('checkLayout (calls on caller-managed memory)', () => {
  it('returns the layout with defaults', () => {
    expect(checkLayout({ rows: 3, cols: 4 })).toEqual({ rows: 3, cols: 4, temperature: 1, fullyMasked: 'nan' });
    expect(checkLayout({ rows: 0, cols: 1, temperature: 0.5, fullyMasked: 'zero' })).toEqual({
      rows: 0,
      cols: 1,
      temperature: 0.5,
      fullyMasked: 'zero',
    });
  });

  it.each([
    [undefined, 'INVALID_SHAPE', 'options.rows and options.cols are required'],
    [{ rows: 2 }, 'INVALID_SHAPE', 'options.cols must be a positive integer, got undefined'],
    [{ rows: 2, cols: 0 }, 'INVALID_SHAPE', 'options.cols must be a positive integer, got 0'],
    [{ rows: -1, cols: 2 }, 'INVALID_SHAPE', 'options.rows must be a non-negative integer, got -1'],
    [{ rows: 1.5, cols: 2 }, 'INVALID_SHAPE', 'options.rows must be a non-negative integer, got 1.5'],
    [{ rows: 1, cols: 2, temperature: 0 }, 'INVALID_OPTION', 'options.temperature must be a finite number > 0, got 0'],
    [
      { rows: 1, cols: 2, fullyMasked: 'inf' },
      'INVALID_OPTION',
      `options.fullyMasked must be 'nan' or 'zero', got "inf"`,
    ],
    [{ rows: 1, cols: 2, out: [] }, 'INVALID_OPTION', 'options.out is not a known option'],
    ['4x4', 'INVALID_OPTION', 'options must be an object, got "4x4"'],
  ])('%j → %s', (options, code, message) => {
    let error: unknown;
    try {
      checkLayout(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SoftmaxError);
    expect((error as SoftmaxError).code).toBe(code);
    expect((error as SoftmaxError).message).toContain(message);
  });
});

describe('validateCall: the typed-array fast path and the general path agree', () => {
  // A typed-array call takes the fast path; the same values as a number[] take the general one
  // (then converted to Float64Array), so their calls must match in everything but the arrays.
  const shape = (call: ReturnType<typeof validateCall>) => ({
    dtype: call.dtype,
    rows: call.rows,
    cols: call.cols,
    options: { ...call.options },
    provided: call.provided,
    lengths: call.outputs.map((o) => o.length),
  });
  const grid: [keyof typeof OPS, number, unknown][] = [
    ['softmax', 6, undefined],
    ['softmax', 6, { cols: 3, temperature: 0.5 }],
    ['logSoftmax', 6, { cols: 2, fullyMasked: 'zero' }],
    ['logSumExp', 6, { cols: 3 }],
    ['softmaxBackward', 4, { cols: 2, temperature: 3 }],
    ['logSoftmaxBackward', 4, {}],
  ];
  for (const [name, n, options] of grid) {
    it(`${name} ${JSON.stringify(options)}`, () => {
      const op = OPS[name];
      const typed = op.inputs.map(() => f64(n));
      const plain = op.inputs.map(() => Array.from(f64(n)));
      expect(shape(validateCall(op, [...typed, options]))).toEqual(shape(validateCall(op, [...plain, options])));
    });
  }

  it("a backend's `outs` replace the options' out, with the same checks", () => {
    const x = f32(4);
    const out = new Float32Array(4);
    const call = validateCall(OPS.softmax, [x, { cols: 2, out: 'a handle' }], undefined, [out]);
    expect(call.outputs[0]).toBe(out);
    expect(call.provided).toEqual([true]);
    const wrong = thrown(() => validateCall(OPS.softmax, [x, { out: 'a handle' }], undefined, [new Float32Array(3)]));
    expect(wrong.code).toBe('INVALID_OPTION');
    expect(wrong.message).toContain('options.out must have length 4');
  });

  it('a shifted out of the same buffer still fails on the fast path', () => {
    const buffer = new Float32Array(6);
    const x = buffer.subarray(0, 4);
    expect(thrown(() => validateCall(OPS.softmax, [x, { out: buffer.subarray(2, 6) }])).code).toBe('INVALID_OPTION');
  });
});
