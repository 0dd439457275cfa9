import { describe, expect, it } from 'vitest';
import { OPS, type OpCall, type OpDecl, type PlacedOperand, validateCall, validatePlaced } from '../src/backend.js';
import { SoftmaxError } from '../src/index.js';

/**
 * validatePlaced must answer exactly as validateCall of the same operands' views (the output as
 * `out`): a backend's buffer calls and array calls then accept and refuse the same calls, with the
 * same codes and messages. Each case runs both and compares; a few outcomes are also stated
 * outright, so that the two cannot agree on a wrong answer unnoticed.
 */

type Dtype = 'float32' | 'float64' | 'int32';
const TYPES = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;

/** An operand in one shared memory, as a wasm buffer describes itself. */
class Placed implements PlacedOperand {
  constructor(
    readonly memory: ArrayBuffer,
    readonly dtype: Dtype,
    readonly length: number,
    readonly byteOffset: number,
  ) {}
  view() {
    return new TYPES[this.dtype](this.memory, this.byteOffset, this.length);
  }
}

/** One call: operands as [dtype, length, byte offset], inputs then (optionally) the output. */
interface Case {
  name: string;
  op: keyof typeof OPS;
  operands: [Dtype, number, number][];
  options?: unknown;
  dtypes?: ('float32' | 'float64')[];
  /** The outcome stated outright: 'ok', or the error's code. */
  expect?: string;
}

/** A case: operands as `<type><length>@<byte offset>` (f: float32, d: float64, i: int32), inputs then output. */
function c(
  name: string,
  op: keyof typeof OPS,
  operands: string,
  expect?: string,
  options?: unknown,
  dtypes?: Case['dtypes'],
): Case {
  const types: Record<string, Dtype> = { f: 'float32', d: 'float64', i: 'int32' };
  const parsed = operands.split(' ').map((o): [Dtype, number, number] => {
    const [, t, n, at] = /^([fdi])(\d+)@(\d+)$/.exec(o) as RegExpExecArray;
    return [types[t], Number(n), Number(at)];
  });
  return { name, op, operands: parsed, expect, options, dtypes };
}

const CASES: Case[] = [
  c('in place', 'softmax', 'f10@0 f10@0', 'ok', { cols: 5 }),
  c('separate out', 'logSoftmax', 'd6@0 d6@64', 'ok', { cols: 3, temperature: 2 }),
  c('adjacent out', 'softmax', 'f4@0 f4@16', 'ok'),
  c('out one element on', 'softmax', 'f4@0 f4@4', 'INVALID_OPTION'),
  c('out one element back', 'softmax', 'f4@4 f4@0', 'INVALID_OPTION'),
  c('float64 out two elements on', 'softmax', 'd4@0 d4@16', 'INVALID_OPTION'),
  c('float64 adjacent out', 'logSoftmax', 'd4@32 d4@0', 'ok'),
  c('backward into dy', 'softmaxBackward', 'f8@0 f8@32 f8@32', 'ok', { cols: 4 }),
  c('backward into y', 'logSoftmaxBackward', 'd8@0 d8@64 d8@0', 'ok'),
  c('backward out over both', 'softmaxBackward', 'f8@0 f8@32 f8@16', 'INVALID_OPTION'),
  c('inputs of two types', 'softmaxBackward', 'f8@0 d8@64 f8@128', 'UNSUPPORTED_DTYPE'),
  c('inputs of two lengths', 'softmaxBackward', 'f8@0 f4@64 f8@128', 'INVALID_SHAPE'),
  c('out of the other type', 'softmax', 'f4@0 d4@64', 'INVALID_OPTION'),
  c('out too short', 'softmax', 'f4@0 f3@64', 'INVALID_OPTION'),
  c('an integer input', 'softmax', 'i4@0 f4@64', 'UNSUPPORTED_DTYPE'),
  c('a type the backend lacks', 'softmax', 'd4@0 d4@0', 'UNSUPPORTED_DTYPE', undefined, ['float32']),
  c('cols not dividing', 'softmax', 'f10@0 f10@0', 'INVALID_SHAPE', { cols: 3 }),
  c('cols 0', 'softmax', 'f10@0 f10@0', 'INVALID_SHAPE', { cols: 0 }),
  c('an unknown option', 'softmax', 'f4@0 f4@0', 'INVALID_OPTION', { colls: 4 }),
  c('options not an object', 'softmax', 'f4@0 f4@0', undefined, 4),
  c('a bad temperature', 'logSoftmax', 'f4@0 f4@0', 'INVALID_OPTION', { temperature: -1 }),
  c('fullyMasked zero', 'softmax', 'f4@0 f4@0', 'ok', { fullyMasked: 'zero' }),
  c('empty', 'softmax', 'f0@0 f0@0', 'ok'),
  c('empty with cols', 'logSoftmaxBackward', 'f0@0 f0@0 f0@0', 'ok', { cols: 7 }),
  c('logSumExp out', 'logSumExp', 'f6@0 f2@64', 'ok', { cols: 3 }),
  c('logSumExp out over x', 'logSumExp', 'f6@0 f2@0', 'INVALID_OPTION', { cols: 3 }),
  c('logSumExp without out', 'logSumExp', 'd6@0', 'ok', { cols: 2 }),
  c('softmax without out', 'softmax', 'f6@0', 'ok'),
];

function outcome(run: () => OpCall): { call?: OpCall; error?: string } {
  try {
    return { call: run() };
  } catch (error) {
    if (!(error instanceof SoftmaxError)) throw error;
    return { error: `${error.code}: ${error.message}` };
  }
}

/** What a kernel is told: everything but the arrays themselves, and which arrays they are. */
function summary(call: OpCall, views: readonly unknown[]) {
  const { dtype, rows, cols, forms, provided, present, options } = call;
  const where = (a: unknown) =>
    views.includes(a) ? views.indexOf(a) : `new ${(a as object).constructor.name}(${(a as ArrayLike<number>).length})`;
  return {
    dtype,
    rows,
    cols,
    forms,
    provided,
    present,
    options,
    inputs: call.inputs.map(where),
    outputs: call.outputs.map(where),
  };
}

describe('validatePlaced answers as validateCall of the views', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const memory = new ArrayBuffer(1024);
      const placed = c.operands.map(([dtype, length, at]) => new Placed(memory, dtype, length, at));
      const op = OPS[c.op] as OpDecl;
      const count = op.inputs.length;
      const dtypes = c.dtypes ?? ['float32', 'float64'];
      // One view per operand, whichever path asks for it (the same object for the same operand).
      const views = new Map<Placed, unknown>();
      const view = (p: Placed) => {
        if (!views.has(p)) views.set(p, p.view());
        return views.get(p) as never;
      };
      const got = outcome(() => validatePlaced(op, placed, c.options, dtypes, view));
      const args = [...placed.slice(0, count).map(view), c.options];
      const outs = placed.length > count ? [view(placed[count])] : undefined;
      const want = outcome(() => validateCall(op, args, dtypes, outs));
      const all = [...views.values()];
      expect(got.error).toBe(want.error);
      if (got.call && want.call) expect(summary(got.call, all)).toEqual(summary(want.call, all));
      if (c.expect === 'ok') expect(got.error).toBeUndefined();
      else if (c.expect) expect(got.error?.split(':')[0]).toBe(c.expect);
    });
  }

  it('reads each option once, and takes the views only after', () => {
    const memory = new ArrayBuffer(64);
    const x = new Placed(memory, 'float32', 4, 0);
    const log: string[] = [];
    const options = {
      get cols() {
        log.push('cols');
        return 2;
      },
      get temperature() {
        log.push('temperature');
        return 0.5;
      },
    };
    const call = validatePlaced(OPS.softmax as OpDecl, [x, x], options, ['float32'], (p, i) => {
      log.push(`view ${i}`);
      return p.view();
    });
    expect(log).toEqual(['cols', 'temperature', 'view 0', 'view 1']);
    expect([call.rows, call.cols, (call.options as { temperature: number }).temperature]).toEqual([2, 2, 0.5]);
  });

  it("reports the backend's own error for an operand it cannot view", () => {
    const x = new Placed(new ArrayBuffer(64), 'float32', 4, 0);
    const refuse = () => {
      throw new SoftmaxError('INVALID_INPUT', 'x has been freed');
    };
    expect(() => validatePlaced(OPS.softmax as OpDecl, [x, x], { cols: 2 }, ['float32'], refuse)).toThrow(
      'x has been freed',
    );
  });
});
