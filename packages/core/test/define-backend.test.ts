import { describe, expect, it } from 'vitest';
import { BackendBase, defineBackend, OP_NAMES, OPS, type OpCall } from '../src/backend.js';
import { createCoreBackend, logSumExp, SoftmaxError, softmax } from '../src/index.js';

/** Runs a call that must throw (or reject) and returns the error. */
async function failure(call: () => unknown): Promise<SoftmaxError> {
  try {
    await call();
  } catch (error) {
    return error as SoftmaxError;
  }
  throw new Error('expected the call to fail');
}

describe('defineBackend', () => {
  it('gives a method for every op of the table; an op the backend lacks is UNSUPPORTED_OP naming both', async () => {
    const calls: string[] = [];
    const b = defineBackend({
      name: 'halfway',
      ops: { softmax: ['float32'] },
      returns: 'sync',
      run: (call) => {
        calls.push(call.op.name);
        call.op.reference(call);
      },
    });
    for (const name of OP_NAMES) expect(typeof b[name]).toBe('function');
    expect(Array.from(b.softmax(new Float32Array([0, 0])))).toEqual([0.5, 0.5]);
    const error = await failure(() => b.logSoftmax(new Float32Array([0, 0])));
    expect(error).toBeInstanceOf(SoftmaxError);
    expect(error.code).toBe('UNSUPPORTED_OP');
    expect(error.message).toContain('halfway');
    expect(error.message).toContain('logSoftmax');
    // A float type the op lacks keeps its own code.
    expect((await failure(() => b.softmax([1, 2]))).code).toBe('UNSUPPORTED_DTYPE');
    expect(b.dtypes).toEqual(['float32']);
    expect(calls).toEqual(['softmax']);
  });

  it('validates once with core rules, answers empty calls itself, and hands the kernel a full call', () => {
    let seen: OpCall | undefined;
    const b = defineBackend({
      name: 'spy',
      ops: { softmaxBackward: ['float64'] },
      returns: 'sync',
      run: (call) => {
        seen = call;
      },
    });
    expect(b.softmaxBackward(new Float64Array(0), new Float64Array(0))).toHaveLength(0);
    expect(seen).toBeUndefined();
    const out = new Float64Array(4);
    expect(b.softmaxBackward([1, 2, 3, 4], [0, 0, 0, 0], { cols: 2, temperature: 2, out })).toBe(out);
    expect(seen).toMatchObject({ dtype: 'float64', rows: 2, cols: 2, provided: [true], options: { temperature: 2 } });
    expect(seen?.outputs[0]).toBe(out);
    expect(seen?.inputs[0]).toBeInstanceOf(Float64Array);
    expect(() => b.softmaxBackward([1], [1, 2])).toThrow(SoftmaxError);
  });

  it('an asynchronous backend rejects bad input instead of throwing, and resolves to the result', async () => {
    const b = defineBackend({
      name: 'later',
      ops: { softmax: ['float32', 'float64'] },
      returns: 'async',
      run: async (call) => call.op.reference(call),
    });
    const bad = b.softmax('nope' as never);
    expect(bad).toBeInstanceOf(Promise);
    expect((await failure(() => bad)).code).toBe('INVALID_INPUT');
    expect((await failure(() => b.logSumExp([1]))).code).toBe('UNSUPPORTED_OP');
    const y = await b.softmax(new Float64Array([1, 1]));
    expect(Array.from(y)).toEqual([0.5, 0.5]);
  });

  it('works as a base class, so backends with state of their own get the same methods', () => {
    class Doubling extends BackendBase {
      readonly name = 'doubling';
      readonly ops = { softmax: ['float64'] } as const;
      readonly returns = 'sync' as const;
      run(call: OpCall) {
        call.op.reference(call);
        const out = call.outputs[0];
        for (let i = 0; i < out.length; i++) out[i] *= 2;
      }
      dispose() {}
    }
    expect(Array.from(new Doubling().softmax([3, 3]))).toEqual([1, 1]);
  });

  it('core implements every op of the table in both float types', () => {
    const core = createCoreBackend();
    for (const name of OP_NAMES) expect(core.ops[name]).toEqual(['float32', 'float64']);
    expect(core.dtypes).toEqual(['float32', 'float64']);
    expect(Object.keys(OPS)).toEqual(OP_NAMES);
  });
});

describe('logSumExp (the reference)', () => {
  it('is max/T + log Σ exp((x − max)/T) per row, with the special values of an empty or infinite sum', () => {
    const inf = Number.POSITIVE_INFINITY;
    const y = logSumExp([0, 0, 1, -inf, Number.NaN, 1, inf, 2, -inf, -inf], { cols: 2 });
    expect(y).toBeInstanceOf(Float64Array);
    expect(y).toHaveLength(5);
    expect(y[0]).toBe(Math.LN2);
    expect(y[1]).toBe(1);
    expect(y[2]).toBeNaN();
    expect(y[3]).toBe(inf);
    expect(y[4]).toBe(-inf);
    // T = 2 on [2, 2]: 1 + log 2; float32 in, float32 out.
    expect(logSumExp(new Float32Array([2, 2]), { temperature: 2 })[0]).toBe(Math.fround(1 + Math.LN2));
    // It agrees with log-softmax: lse = x_j − logSoftmax(x)_j.
    const x = [0.3, -2, 5, 1e-3];
    expect(Math.abs(logSumExp(x)[0] - (5 - Math.log(softmax(x)[2])))).toBeLessThan(1e-14);
    const out = new Float64Array(2);
    expect(logSumExp([1, 2, 3, 4], { cols: 2, out })).toBe(out);
    expect(() => logSumExp([1, 2, 3, 4], { cols: 2, out: new Float64Array(4) })).toThrow(
      /options.out must have length 2/,
    );
  });
});
