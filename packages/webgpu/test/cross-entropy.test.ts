import { checkAgainstOracle, describeCheck, uniform } from '@softmax/conformance/helpers';
import { type CrossEntropyOptions, crossEntropy, SoftmaxError, softmax } from '@softmax/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrossEntropyShape, WebGPUBackend } from '../src/index.js';
import { COPY_DST, COPY_SRC, gpuBackend, REDUCTION_TUNINGS, readBack, refuses, STORAGE } from './gpu.js';

/**
 * crossEntropy on WebGPU against core's float64 reference: the array API on the kernel paths
 * the shared conformance suite does not choose by itself (split rows, each way a unit reduces,
 * every pipeline variant), special values, and the GPU-resident encodeCrossEntropy on the
 * caller's buffers (the normaliser D summed on the GPU).
 */

const RTOL = 2e-6; // the backend's declared float32 bound (conformance.test.ts)
const ATOL = 2 ** -126;

type Targets = Int32Array | Uint32Array | Float32Array;

interface Case {
  rows: number;
  cols: number;
  logits: Float32Array;
  targets: Targets;
  options: CrossEntropyOptions;
}

/** Class indices in [0, cols), with `ignoreIndex` at the first, a middle and the last row (of 4 or more). */
function indices(
  rows: number,
  cols: number,
  seed: number,
  ignoreIndex = -100,
  Type: Int32ArrayConstructor | Uint32ArrayConstructor = Int32Array,
): Targets {
  const t = Type.from(Array.from(uniform(rows, 0, cols, seed), (v) => Math.min(cols - 1, Math.floor(v))));
  if (rows >= 4) for (const r of [0, rows >> 1, rows - 1]) t[r] = ignoreIndex;
  return t;
}

/** Rows of probabilities (some exactly 0), each summing to 1 within float32 rounding. */
function probabilities(rows: number, cols: number, seed: number): Float32Array {
  const q = Float64Array.from(uniform(rows * cols, -0.5, 1, seed), (v) => Math.max(0, v));
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += q[r * cols + j];
    if (s === 0) q[r * cols] = s = 1;
    for (let j = 0; j < cols; j++) q[r * cols + j] /= s;
  }
  return Float32Array.from(q);
}

const weights = (cols: number, seed: number) => {
  const w = Float32Array.from(uniform(cols, 0.1, 2, seed));
  w[cols >> 1] = 0; // a class of weight 0: its terms count 0, even at −Infinity
  return w;
};

/**
 * The allowance per element, from the reference's own quantities (not the kernel's): a loss is a
 * sum of terms ≥ 0, so rtol·loss, plus what the float32 rounding of z = softcap(x) costs (|s|
 * each) and ζ·lse²'s share; a gradient element cancels (A·p_j − b_j), so rtol times its terms'
 * size |k|·(A'·p_j + b_j)·∂s_j/∂x_j.
 */
function allowances(c: Case) {
  const { rows, cols, logits, targets, options: o } = c;
  const cap = o.softcap ?? 0;
  const T = o.temperature ?? 1;
  const eps = o.labelSmoothing ?? 0;
  const zeta = o.zLoss ?? 0;
  const w = (j: number) => (o.weight ? o.weight[j] : 1);
  const probs = targets instanceof Float32Array;
  const z = Float64Array.from(logits, (x) => (cap > 0 ? cap * Math.tanh(x / cap) : x));
  const p = softmax(z, { cols, temperature: T });
  const ref = crossEntropy(logits, targets, { ...o, cols, reduction: 'none', gradient: false, returnLse: true });
  const lse = ref.lse as Float32Array;
  const full = crossEntropy(logits, targets, { ...o, cols, gradient: true, gradOut: undefined });
  const k = Math.abs(((o.gradScale ?? 1) * 1) / normaliser(c));
  let W = 0;
  for (let j = 0; j < cols; j++) W += w(j);
  const loss = new Float64Array(rows);
  const lseScale = new Float64Array(rows);
  const grad = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let A = 0;
    let smax = 0;
    for (let j = 0; j < cols; j++) {
      const s = Math.abs(z[r * cols + j] / T);
      if (Number.isFinite(s)) smax = Math.max(smax, s);
    }
    const t = probs ? -1 : targets[r];
    if (probs) for (let j = 0; j < cols; j++) A += w(j) * ((1 - eps) * targets[r * cols + j] + eps / cols);
    else A = t === (o.ignoreIndex ?? -100) ? 0 : (1 - eps) * w(t) + (eps / cols) * W;
    const L = Math.abs(lse[r]);
    const capped = cap > 0 ? smax : 0;
    loss[r] = Math.abs(ref.loss[r]) + A * capped + 2 * zeta * L * (1 + L);
    lseScale[r] = Math.abs(lse[r]) + 1 + capped;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      const b = probs
        ? w(j) * ((1 - eps) * targets[i] + eps / cols)
        : (j === t ? (1 - eps) * w(t) : 0) + (eps / cols) * w(j);
      const ds = cap > 0 ? 1 / Math.cosh(logits[i] / cap) ** 2 : 1;
      grad[i] = ((k * ((A + 2 * zeta * L) * p[i] * (1 + capped) + b)) / T) * ds + ATOL / RTOL;
    }
  }
  return { ref, full, loss, lseScale, grad };
}

/** D of 'mean' by PyTorch's documented formula: Σ of the non-ignored rows' target weights (rows for probabilities). */
function normaliser({ rows, targets, options: o }: Case): number {
  if ((o.reduction ?? 'mean') !== 'mean') return 1;
  if (targets instanceof Float32Array) return rows;
  let d = 0;
  for (const t of targets) if (t !== (o.ignoreIndex ?? -100)) d += o.weight ? o.weight[t] : 1;
  return d;
}

function expectClose(name: string, got: ArrayLike<number>, want: Float32Array, scale: ArrayLike<number>): number {
  const check = checkAgainstOracle(got, want, { rtol: RTOL, atol: 0, scale });
  expect(check.ok, `${name}: ${describeCheck(check, got, want)}`).toBe(true);
  return check.worstRatio;
}

/** Runs the array API on `c` (losses per row and lse, then the reduced loss and the gradient) and checks all of it. */
async function checkArray(backend: WebGPUBackend, c: Case, label: string): Promise<number> {
  const { logits, targets, options: o, cols } = c;
  const a = allowances(c);
  const rows = await backend.crossEntropy(logits, targets, {
    ...o,
    cols,
    reduction: 'none',
    gradient: false,
    returnLse: true,
  });
  let worst = expectClose(`${label} loss rows`, rows.loss, a.ref.loss as Float32Array, a.loss);
  worst = Math.max(worst, expectClose(`${label} lse`, rows.lse as Float32Array, a.ref.lse as Float32Array, a.lseScale));
  const input = logits.slice();
  const mode = o.gradient ?? true;
  const result = await backend.crossEntropy(input, targets, { ...o, cols, gradient: mode === false ? true : mode });
  if (mode === 'in-place') expect(result.grad).toBe(input);
  else expect(input).toEqual(logits);
  worst = Math.max(
    worst,
    expectClose(`${label} grad`, result.grad as Float32Array, a.full.grad as Float32Array, a.grad),
  );
  // The reduction is core's, over the row losses: it meets the same bound as they do.
  let sum = 0;
  for (const v of a.loss) sum += v;
  const D = (o.reduction ?? 'mean') === 'mean' ? normaliser(c) : 1;
  const reduced = o.reduction === 'none' ? a.loss : [sum / D];
  worst = Math.max(worst, expectClose(`${label} loss`, result.loss, a.full.loss as Float32Array, reduced));
  return worst;
}

function cases(rows: number, cols: number, seed: number): Array<[string, Case]> {
  const x = Float32Array.from(uniform(rows * cols, -8, 8, seed));
  const idx = indices(rows, cols, seed + 1);
  const q = probabilities(rows, cols, seed + 2);
  const w = weights(cols, seed + 3);
  const make = (targets: Targets, options: CrossEntropyOptions): Case => ({ rows, cols, logits: x, targets, options });
  return [
    ['class indices, mean', make(idx, {})],
    ['weights + label smoothing, in place', make(idx, { weight: w, labelSmoothing: 0.1, gradient: 'in-place' })],
    ['probabilities + weights + smoothing + z-loss', make(q, { weight: w, labelSmoothing: 0.2, zLoss: 1e-3 })],
    [
      'softcap + temperature + z-loss, sum, gradScale',
      make(idx, { softcap: 3, temperature: 0.7, zLoss: 1e-4, reduction: 'sum', gradScale: -2.5 }),
    ],
    [
      'Uint32Array targets, ignoreIndex 7, none',
      make(indices(rows, cols, seed + 4, 7, Uint32Array), { ignoreIndex: 7, reduction: 'none' }),
    ],
    ['a tiny temperature (1e-30)', make(idx, { temperature: 1e-30, labelSmoothing: 0.05 })],
    ['a huge temperature (1e30)', make(idx, { temperature: 1e30, weight: w })],
  ];
}

describe('crossEntropy (array API) against core', () => {
  let backend: WebGPUBackend;
  beforeAll(async () => {
    backend = await gpuBackend();
  });
  afterAll(() => backend?.dispose());

  // 37: scalar lanes; 64: vec4 lanes; 2 × 20,000: each row split over segments (partials + merge).
  for (const [rows, cols] of [
    [7, 37],
    [5, 64],
    [2, 20000],
  ]) {
    it(`every variant at ${rows} × ${cols}`, async () => {
      let worst = 0;
      for (const [name, c] of cases(rows, cols, rows * cols))
        worst = Math.max(worst, await checkArray(backend, c, name));
      console.log(`crossEntropy ${rows} × ${cols}: worst error / allowance ${worst.toFixed(3)}`);
    });
  }

  it('follows core on special values: NaN, +Infinity (shared mass), −Infinity targets, masked and ignored rows', async () => {
    const cols = 5;
    const I = Number.POSITIVE_INFINITY;
    const rows: Array<[number[], string]> = [
      [[1, Number.NaN, 2, 3, 4], 'NaN row'],
      [[1, I, 2, I, 0], 'two +Infinity entries share the mass, target one of them'],
      [[1, I, 2, 3, 0], "+Infinity elsewhere: the target's logp is −Infinity"],
      [[-I, 1, 2, 3, 0], 'a −Infinity target'],
      [[-I, -I, -I, -I, -I], 'fully masked'],
      [[Number.NaN, 1, 2, 3, 4], 'ignored: 0 loss and gradient despite the NaN'],
      [[-I, 1, 2, 3, 0], 'a −Infinity entry elsewhere (p = 0, and with ε > 0 its logp counts)'],
      [[3e38, -3e38, 0, 1, 2], 'x − max overflows float32 where (ε/C)·w·logp, and the loss, need not'],
    ];
    const x = Float32Array.from(rows.flatMap(([r]) => r));
    const t = Int32Array.from([0, 1, 0, 0, 0, -100, 2, 2]);
    for (const options of [
      {},
      { zLoss: 0.01 },
      { labelSmoothing: 0.1 },
      { labelSmoothing: 0.1, weight: [1, 1, 0, 1, 0] },
    ]) {
      const o: CrossEntropyOptions = { ...options, cols, reduction: 'sum', gradient: true, returnLse: true };
      const got = await backend.crossEntropy(x, t, { ...o, reduction: 'none' });
      const want = crossEntropy(x, t, { ...o, reduction: 'none' });
      for (const key of ['loss', 'grad', 'lse'] as const) {
        const g = got[key] as Float32Array;
        const r = want[key] as Float32Array;
        const check = checkAgainstOracle(g, r, { rtol: 1e-5, scale: Float64Array.from(r, (v) => Math.abs(v) + 1) });
        expect(check.ok, `${JSON.stringify(options)} ${key}: ${describeCheck(check, g, r)}`).toBe(true);
      }
    }
  });

  it('keeps a finite loss finite when x − max overflows float32 (probability targets, smoothing, T = 4)', async () => {
    const x = Float32Array.from([3e38, -3e38, 0, 1, -3.4e38, 3.4e38, 2, 0]);
    const q = Float32Array.from([0.25, 0.25, 0.5, 0, 0, 0.5, 0, 0.5]);
    for (const options of [{}, { labelSmoothing: 0.2, temperature: 4 }, { weight: [0.5, 0.1, 1, 0] }]) {
      const o: CrossEntropyOptions = { ...options, cols: 4, reduction: 'none', gradient: true };
      const got = await backend.crossEntropy(x, q, o);
      const want = crossEntropy(x, q, o);
      for (const key of ['loss', 'grad'] as const) {
        const g = got[key] as Float32Array;
        const r = want[key] as Float32Array;
        const check = checkAgainstOracle(g, r, { rtol: RTOL, scale: Float64Array.from(r, (v) => Math.abs(v) + 1) });
        expect(check.ok, `${JSON.stringify(options)} ${key}: ${describeCheck(check, g, r)}`).toBe(true);
      }
    }
  });

  it('refuses what core refuses, before any GPU work', async () => {
    const x = new Float32Array(12);
    await expect(backend.crossEntropy(x, Int32Array.from([0, 4, 1]), { cols: 4 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(backend.crossEntropy(x, [-100, -100, -100], { cols: 4 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(backend.crossEntropy(new Float64Array(12), [0, 1, 2], { cols: 4 })).rejects.toMatchObject({
      code: 'UNSUPPORTED_DTYPE',
    });
    expect(backend.ops.crossEntropy).toEqual(['float32']);
  });
});

describe('crossEntropy: every way a unit reduces, fused and split', () => {
  for (const [label, tuning] of REDUCTION_TUNINGS) {
    it(label, async () => {
      const backend = await gpuBackend({ tuning: { ...tuning, targetWorkgroups: 8 } });
      try {
        for (const [rows, cols] of [
          [3, 40],
          [2, 3001],
        ]) {
          const all = cases(rows, cols, 7 * rows + cols);
          for (const [name, c] of [all[1], all[2], all[3]])
            await checkArray(backend, c, `${label} ${rows} × ${cols} ${name}`);
        }
      } finally {
        backend.dispose();
      }
    });
  }
});

describe('encodeCrossEntropy (GPU-resident) against core', () => {
  let backend: WebGPUBackend;
  let device: GPUDevice;
  beforeAll(async () => {
    backend = await gpuBackend();
    device = backend.device;
  });
  afterAll(() => backend?.dispose());

  const buffer = (data: ArrayBufferView, extra = 0) => {
    const b = device.createBuffer({
      size: Math.max(16, data.byteLength),
      usage: STORAGE | COPY_SRC | COPY_DST | extra,
    });
    device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    return b;
  };
  const empty = (values: number) => device.createBuffer({ size: Math.max(16, values * 4), usage: STORAGE | COPY_SRC });

  /** One encodeCrossEntropy call on fresh buffers, submitted, and its outputs read back. */
  async function run(c: Case, shape: Partial<CrossEntropyShape>, withLse = true) {
    const { rows, cols } = c;
    const logits = buffer(c.logits);
    const targets = buffer(c.targets);
    const weight = c.options.weight ? buffer(Float32Array.from(c.options.weight)) : undefined;
    const loss = empty(rows);
    const lse = withLse ? empty(rows) : undefined;
    const inPlace = shape.gradient === 'in-place';
    const grad = shape.gradient === true ? empty(rows * cols) : undefined;
    const encoder = device.createCommandEncoder();
    device.pushErrorScope('validation');
    backend.encodeCrossEntropy(
      encoder,
      { logits, targets, loss, grad, lse, weight },
      {
        rows,
        cols,
        ...shape,
        targetType:
          c.targets instanceof Float32Array ? 'float32' : c.targets instanceof Uint32Array ? 'uint32' : 'int32',
      },
    );
    device.queue.submit([encoder.finish()]);
    expect((await device.popErrorScope())?.message).toBeUndefined();
    const out = {
      loss: await readBack(device, loss, rows),
      lse: lse ? await readBack(device, lse, rows) : undefined,
      grad: grad || inPlace ? await readBack(device, inPlace ? logits : (grad as GPUBuffer), rows * cols) : undefined,
    };
    for (const b of [logits, targets, weight, loss, lse, grad]) b?.destroy();
    return out;
  }

  for (const [rows, cols] of [
    [9, 40],
    [2, 20000],
  ]) {
    it(`class indices with weights, smoothing and ignored rows, 'mean' normalised on the GPU (${rows} × ${cols})`, async () => {
      const c: Case = {
        rows,
        cols,
        logits: Float32Array.from(uniform(rows * cols, -6, 6, rows)),
        targets: indices(rows, cols, rows + 1),
        options: { weight: weights(cols, 3), labelSmoothing: 0.1, zLoss: 1e-3, gradScale: 4 },
      };
      const a = allowances(c);
      for (const gradient of [true, 'in-place'] as const) {
        const got = await run(c, { reduction: 'mean', labelSmoothing: 0.1, zLoss: 1e-3, gradScale: 4, gradient });
        expectClose(`${gradient} loss`, got.loss, a.ref.loss as Float32Array, a.loss);
        expectClose(`${gradient} lse`, got.lse as Float32Array, a.ref.lse as Float32Array, a.lseScale);
        expectClose(`${gradient} grad`, got.grad as Float32Array, a.full.grad as Float32Array, a.grad);
      }
    });
  }

  it("probability targets, softcap and temperature, 'mean' over rows, without lse", async () => {
    const rows = 6;
    const cols = 33;
    const c: Case = {
      rows,
      cols,
      logits: Float32Array.from(uniform(rows * cols, -20, 20, 11)),
      targets: probabilities(rows, cols, 12),
      options: { softcap: 7, temperature: 1.3 },
    };
    const a = allowances(c);
    const got = await run(c, { softcap: 7, temperature: 1.3, gradient: true }, false);
    expectClose('loss', got.loss, a.ref.loss as Float32Array, a.loss);
    expectClose('grad', got.grad as Float32Array, a.full.grad as Float32Array, a.grad);
  });

  it('computes the loss alone (no gradient) and records nothing for 0 rows', async () => {
    const c: Case = {
      rows: 4,
      cols: 10,
      logits: Float32Array.from(uniform(40, -3, 3, 21)),
      targets: Uint32Array.from([1, 9, 0, 4]),
      options: {},
    };
    const a = allowances(c);
    const got = await run(c, {});
    expectClose('loss', got.loss, a.ref.loss as Float32Array, a.loss);
    const encoder = device.createCommandEncoder();
    device.pushErrorScope('validation');
    backend.encodeCrossEntropy(encoder, { logits: empty(4), targets: empty(1), loss: empty(1) }, { rows: 0, cols: 4 });
    device.queue.submit([encoder.finish()]);
    expect((await device.popErrorScope())?.message).toBeUndefined();
  });

  it('marks a target outside [0, cols) with a NaN loss, and a NaN scale for the batch (it cannot throw)', async () => {
    const c: Case = {
      rows: 3,
      cols: 8,
      logits: Float32Array.from(uniform(24, -3, 3, 31)),
      targets: Int32Array.from([1, 8, 2]),
      options: {},
    };
    const got = await run(c, { gradient: true });
    expect(Number.isNaN(got.loss[1])).toBe(true);
    expect(Number.isFinite(got.loss[0]) && Number.isFinite(got.loss[2])).toBe(true);
    expect((got.grad as Float32Array).every((v) => Number.isNaN(v))).toBe(true);
  });

  it('refuses bad arguments before recording anything', async () => {
    const b = () => device.createBuffer({ size: 256, usage: STORAGE });
    const [logits, targets, loss, grad] = [b(), b(), b(), b()];
    const shape = { rows: 4, cols: 8 };
    const ce = (buffers: Parameters<WebGPUBackend['encodeCrossEntropy']>[1], s: unknown) => (e: GPUCommandEncoder) =>
      backend.encodeCrossEntropy(e, buffers, s as CrossEntropyShape);
    await refuses(backend, ce({ logits, targets, loss }, { ...shape, gradient: true }), /grad/);
    await refuses(backend, ce({ logits, targets, loss, grad }, shape), /options.gradient is false/);
    await refuses(backend, ce({ logits, targets, loss: targets }, shape), /same buffer/);
    await refuses(backend, ce({ logits, targets, loss }, { ...shape, labelSmoothing: 1 }), SoftmaxError);
    await refuses(backend, ce({ logits, targets, loss }, { ...shape, fullyMasked: 'zero' }), /not a known option/);
    await refuses(backend, ce({ logits, targets, loss }, { ...shape, targetType: 'float64' }), /targetType/);
    await refuses(backend, ce({ logits, targets, loss }, { rows: 4, cols: 64 }), /cannot hold/);
    const mapped = device.createBuffer({ size: 256, usage: 1 /* MAP_READ */ | COPY_DST });
    await refuses(backend, ce({ logits, targets: mapped, loss }, shape), /STORAGE/);
    for (const x of [logits, targets, loss, grad, mapped]) x.destroy();
  });

  it('is also encode("crossEntropy", …) in the generic form', async () => {
    const rows = 3;
    const cols = 12;
    const c: Case = {
      rows,
      cols,
      logits: Float32Array.from(uniform(rows * cols, -4, 4, 41)),
      targets: Int32Array.from([3, -100, 11]),
      options: { weight: weights(cols, 42) },
    };
    const a = allowances(c);
    const logits = buffer(c.logits);
    const targets = buffer(c.targets);
    const weight = buffer(c.options.weight as Float32Array);
    const loss = empty(rows);
    const grad = empty(rows * cols);
    const encoder = device.createCommandEncoder();
    backend.encode('crossEntropy', encoder, { inputs: [logits, targets], outputs: [loss, grad] }, {
      rows,
      cols,
      gradient: true,
      weight,
    } as never);
    device.queue.submit([encoder.finish()]);
    expectClose('loss', await readBack(device, loss, rows), a.ref.loss as Float32Array, a.loss);
    expectClose('grad', await readBack(device, grad, rows * cols), a.full.grad as Float32Array, a.grad);
  });
});
