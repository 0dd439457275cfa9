import type { Dtype, FloatArray } from '@softmax/core';
import {
  OPS,
  type OpCall,
  type OpDecl,
  type OperandArray,
  type OperandDecl,
  validateCall,
} from '@softmax/core/backend';
import { isSync, type Runnable, runSync } from './invoke.js';
import type { OpName } from './types.js';

/**
 * The canary: a few fixed inputs, special values included, run on a backend before it serves its
 * first call and compared with core's reference. Drivers miscompile (a shader compiler that
 * reassociated compensated sums, a wasm engine bug): a backend that disagrees is never used.
 * The inputs follow the op table's declarations, so every op a backend declares is checked.
 */

const COLS = 8;
const NaN_ = Number.NaN;
const INF = Number.POSITIVE_INFINITY;
/** Logits: ordinary values, a NaN row, two +Infinity, a fully masked row, and large magnitudes. */
const LOGITS = [
  [0.5, -1.25, 3, 2.75, -0.5, 1, 0, -3],
  [1, NaN_, 2, 3, -1, 0, 0.5, 4],
  [INF, 1, INF, 0, -INF, 2, 3, 4],
  [-INF, -INF, -INF, -INF, -INF, -INF, -INF, -INF],
  [80, -80, 1000, -1000, 60, 0.1, 88, -INF],
].flat();
const ROWS = LOGITS.length / COLS;

/** Tolerances far looser than any backend's contract: the canary catches wrong code, not rounding. */
const TOLERANCE: Record<Dtype, { rtol: number; atol: number }> = {
  float32: { rtol: 1e-5, atol: 1e-6 },
  float64: { rtol: 1e-10, atol: 1e-13 },
};

const floatArray = (dtype: Dtype, values: ArrayLike<number>): FloatArray =>
  dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);

/**
 * A meaningful value of each operand: the logits (the first operand, when no op produces it),
 * another op's output from them, class indices, or plain values.
 */
function operand(decl: OperandDecl, dtype: Dtype, index: number): OperandArray {
  const length = decl.shape === 'matrix' ? ROWS * COLS : decl.shape === 'rows' ? ROWS : 1;
  if (decl.element === 'int32') return Int32Array.from({ length }, (_, i) => (i * 5) % COLS);
  if (decl.element === 'uint32') return Uint32Array.from({ length }, (_, i) => (i * 5) % COLS);
  const logits = floatArray(dtype, LOGITS);
  if (decl.producedBy) {
    const producer = OPS[decl.producedBy as OpName] as OpDecl;
    const call = validateCall(producer, [logits, { cols: COLS }]);
    producer.reference(call);
    return call.outputs[0];
  }
  if (index === 0) return logits;
  return floatArray(
    dtype,
    Array.from({ length }, (_, i) => Math.sin(i * 1.7) * 2),
  );
}

function compare(got: OperandArray, expected: OperandArray, dtype: Dtype): string | undefined {
  const { rtol, atol } = TOLERANCE[dtype];
  if (got.length !== expected.length) return `length ${got.length}, expected ${expected.length}`;
  for (let i = 0; i < got.length; i++) {
    const a = got[i];
    const b = expected[i];
    const same = Number.isNaN(b)
      ? Number.isNaN(a)
      : Number.isFinite(b)
        ? Math.abs(a - b) <= rtol * Math.abs(b) + atol
        : a === b;
    if (!same) return `element ${i} (row ${Math.floor(i / COLS)}) is ${a}, core gives ${b}`;
  }
  return undefined;
}

export interface CanaryResult {
  ok: boolean;
  /** Calls compared. */
  checks: number;
  ms: number;
  /** What disagreed: op, dtype, options, element. */
  message?: string;
}

/** Runs the canary on every op and dtype `backend` declares; resolves (never rejects) with the verdict. */
export async function runCanary(backend: Runnable, now: () => number): Promise<CanaryResult> {
  const t0 = now();
  let checks = 0;
  for (const [name, dtypes] of Object.entries(backend.ops) as Array<[OpName, readonly Dtype[]]>) {
    const op = OPS[name] as OpDecl;
    for (const dtype of dtypes ?? []) {
      const inputs = op.inputs.map((d, i) => operand(d, dtype, i));
      // The op's repeatable options (sample's seed): the reference and the backend compute the same call.
      const base = { cols: COLS, ...op.repeatable };
      const variants: Array<Record<string, unknown>> = [base];
      if ('temperature' in op.options) variants.push({ ...base, temperature: 0.7 });
      for (const options of variants) {
        const where = `${name} ${dtype} ${JSON.stringify(options)}`;
        const expected = validateCall(op, [...inputs, options]);
        op.reference(expected);
        let call: OpCall;
        try {
          call = validateCall(op, [...inputs.map((a) => a.slice()), options], dtypes);
          if (isSync(backend)) runSync(backend, call);
          else await backend.run(call);
        } catch (error) {
          return { ok: false, checks, ms: now() - t0, message: `${where} threw: ${(error as Error).message}` };
        }
        // What the kernel wrote, before any finish step: sample's refuses a row without a token
        // (the NaN row below), which the canary compares like any other output.
        for (let k = 0; k < call.outputs.length; k++) {
          const problem = compare(call.outputs[k], expected.outputs[k], dtype);
          if (problem) return { ok: false, checks, ms: now() - t0, message: `${where}: ${problem}` };
        }
        checks++;
      }
    }
  }
  return { ok: true, checks, ms: now() - t0 };
}
