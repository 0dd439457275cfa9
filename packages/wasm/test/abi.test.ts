import { readFileSync } from 'node:fs';
import { seededRandom } from '@softmax/conformance/helpers';
import { SoftmaxError } from '@softmax/core';
import { OPS, type OpCall, type OpName } from '@softmax/core/backend';
import { describe, expect, it } from 'vitest';
import { ABI_VERSION } from '../dist/abi.js';
import { init } from '../dist/init.js';
import { KERNEL_FUNCTIONS, KERNEL_GLOBALS, THREADS_GLOBALS } from '../src/abi.js';
import { exportOf, KERNELS } from '../src/kernels.js';
import { pkgPath, scalarBytes, simdBytes, threadsBytes, threadsImports } from './helpers.js';

/** A module exporting memory and an abi_version() that returns `version` (hand-assembled). */
function fakeKernel(version: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f], // type: () -> i32
    ...[0x03, 0x02, 0x01, 0x00], // one function of type 0
    ...[0x05, 0x03, 0x01, 0x00, 0x01], // memory: 1 page
    ...[0x07, 0x18, 0x02, 0x06, ...Buffer.from('memory'), 0x02, 0x00, 0x0b, ...Buffer.from('abi_version'), 0x00, 0x00],
    ...[0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, version, 0x0b], // body: i32.const version (< 64)
  ]);
}

describe('ABI version', () => {
  it('every build reports the ABI version the loader expects', async () => {
    for (const [bytes, imports] of [
      [simdBytes(), {}],
      [scalarBytes(), {}],
      [threadsBytes(), threadsImports()],
    ] as const) {
      const { instance } = await WebAssembly.instantiate(bytes, imports);
      expect((instance.exports.abi_version as () => number)()).toBe(ABI_VERSION);
    }
  });

  it('the loader refuses a module with another ABI version', async () => {
    const wrong = fakeKernel(ABI_VERSION + 1);
    const { instance } = await WebAssembly.instantiate(wrong, {});
    expect((instance.exports.abi_version as () => number)()).toBe(ABI_VERSION + 1);
    const error = await init({ bytes: wrong }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SoftmaxError);
    expect((error as SoftmaxError).code).toBe('BACKEND_UNAVAILABLE');
    expect((error as SoftmaxError).message).toMatch(/ABI version/);
  });

  it("pkg/'s raw loader checks the same version and exposes the C ABI", async () => {
    const loader = await import(pkgPath('softmax_wasm.js'));
    expect(loader.ABI_VERSION).toBe(ABI_VERSION);
    const raw = loader.initSync(simdBytes());
    expect(raw.simd()).toBe(1);
    expect(loader.initSync(scalarBytes()).simd()).toBe(0);
    const threads = loader.initSync(threadsBytes(), threadsImports());
    expect(threads.simd()).toBe(1);
    expect(threads.__stack_pointer).toBeInstanceOf(WebAssembly.Global); // moved by each worker
    expect(() => loader.initSync(fakeKernel(ABI_VERSION + 1))).toThrow(/ABI/);
  });
});

describe('the ABI table (src/abi.ts)', () => {
  const builds = [
    { name: 'simd', bytes: simdBytes(), imports: {}, globals: KERNEL_GLOBALS },
    { name: 'scalar', bytes: scalarBytes(), imports: {}, globals: KERNEL_GLOBALS },
    // The threads build imports its memory instead of exporting it.
    {
      name: 'threads',
      bytes: threadsBytes(),
      imports: threadsImports(),
      globals: { __heap_base: KERNEL_GLOBALS.__heap_base, ...THREADS_GLOBALS },
    },
  ];

  it('lists exactly the functions every build exports, with their arities', () => {
    for (const build of builds) {
      const module = new WebAssembly.Module(build.bytes);
      const exported = WebAssembly.Module.exports(module);
      const functions = exported.filter((e) => e.kind === 'function').map((e) => e.name);
      expect(functions.sort(), build.name).toEqual(Object.keys(KERNEL_FUNCTIONS).sort());
      const instance = new WebAssembly.Instance(module, build.imports);
      for (const [name, decl] of Object.entries(KERNEL_FUNCTIONS)) {
        // A wasm function's `length` is its parameter count.
        expect((instance.exports[name] as (...args: number[]) => unknown).length, `${build.name} ${name}`).toBe(
          decl.params.length,
        );
      }
      for (const [name, kind] of Object.entries(build.globals)) {
        expect(exported.find((e) => e.name === name)?.kind, `${build.name} ${name}`).toBe(kind);
      }
    }
    const threadsImported = WebAssembly.Module.imports(new WebAssembly.Module(threadsBytes()));
    expect(threadsImported).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
  });

  it("has each op's kernel take the op's pointers, its extras, its scratch block, rows, cols and its scalars (kernels.ts)", () => {
    for (const [name, kernel] of Object.entries(KERNELS)) {
      const op = OPS[name as OpName];
      // The scalars of a call with every option at its default, in each form of its inputs.
      const shape = { dtype: 'float32', rows: 1, cols: 1 } as const;
      const options = Object.fromEntries(
        Object.entries(op.options).map(([key, read]) => [key, read(undefined, key, shape)]),
      );
      const multi = op.inputs.findIndex((d) => d.or !== undefined);
      const forms = multi < 0 ? [0] : [0, ...(op.inputs[multi].or ?? []).map((_, f) => f + 1)];
      for (const form of forms) {
        const call = {
          op,
          ...shape,
          options,
          params: { scale: 1 },
          forms: op.inputs.map((_, i) => (i === multi ? form : 0)),
        } as unknown as OpCall;
        const operands = op.inputs.length + op.outputs.length + (kernel.extras?.length ?? 0) + (kernel.scratch ? 1 : 0);
        const arity = operands + 2 + kernel.scalars(call).length;
        for (const dtype of ['float32', 'float64'] as const) {
          const exported = exportOf(kernel, dtype, form);
          expect(KERNEL_FUNCTIONS[exported].params.length, `${name} ${dtype} form ${form}`).toBe(arity);
        }
      }
    }
  });

  it("is what pkg/'s .d.ts declares", () => {
    const dts = readFileSync(pkgPath('softmax_wasm.d.ts'), 'utf8');
    for (const [name, { params, returns }] of Object.entries(KERNEL_FUNCTIONS)) {
      expect(dts).toContain(`  ${name}(${params.map((p) => `${p}: number`).join(', ')}): ${returns};\n`);
    }
    const declared = [...dts.matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1]);
    expect(declared.sort()).toEqual(Object.keys(KERNEL_FUNCTIONS).sort());
    expect(dts).toContain('readonly __heap_base: WebAssembly.Global;');
  });
});

describe('SIMD and scalar builds', () => {
  it('compute bit-identical exponentials (same operations lane by lane)', async () => {
    const loader = await import(pkgPath('softmax_wasm.js'));
    const builds = [loader.initSync(simdBytes()), loader.initSync(scalarBytes())];
    const next = seededRandom(7);
    const n = 200_003;
    const cases: [number, number][] = [
      [0, 1],
      [10.3, 1],
      [-5, 0.37],
      [1000, 2.5],
    ];
    for (const [max, temperature] of cases) {
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = max - next() * 90 * temperature;
      x[0] = max;
      x[1] = Number.NEGATIVE_INFINITY;
      const results = builds.map((raw) => {
        const base = (raw.__heap_base.value + 15) & ~15;
        const need = base + 8 * n;
        if (raw.memory.buffer.byteLength < need)
          raw.memory.grow(Math.ceil((need - raw.memory.buffer.byteLength) / 65536));
        new Float32Array(raw.memory.buffer, base, n).set(x);
        raw.probe_exp_f32(base, base + 4 * n, n, Math.fround(max), temperature);
        return new Uint32Array(raw.memory.buffer, base + 4 * n, n).slice();
      });
      // The probe computes e^((x - s)/T) for the row's shift s ≤ max (see exp32.rs), so the max
      // gives a value in [1, 2) and every other entry is that value times e^((x - max)/T).
      const values = new Float32Array(results[0].buffer);
      const atMax = values[0];
      expect(atMax).toBeGreaterThanOrEqual(1);
      expect(atMax).toBeLessThan(2);
      expect(results[0][1]).toBe(0); // exactly 0 at -Infinity
      let worst = 0;
      for (let i = 2; i < n; i += 97) {
        const want = atMax * Math.exp((x[i] - x[0]) / temperature);
        if (want >= 2 ** -126) worst = Math.max(worst, Math.abs(values[i] - want) / want);
      }
      expect(worst).toBeLessThan(5e-7);
      let differ = 0;
      for (let i = 0; i < n; i++) if (results[0][i] !== results[1][i]) differ++;
      expect(differ).toBe(0);
    }
  });

  it('compute bit-identical float64 exponentials over the whole range (f64x2 lanes and exp64)', async () => {
    // logSoftmaxBackward with dy = (0, …, 0, 1) and T = 1 gives dx_j = (0 − exp(y_j)·1)·1 = −exp(y_j)
    // exactly for j < n − 1, so it exposes each build's float64 exp, SIMD fast path and fallback alike.
    const loader = await import(pkgPath('softmax_wasm.js'));
    const builds = [loader.initSync(simdBytes()), loader.initSync(scalarBytes())];
    const next = seededRandom(11);
    const n = 400_001;
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) y[i] = i % 5 === 0 ? -1 + 2 * next() : -750 + 1462 * next();
    const special = [0, -0, 708, -708, 709.7, 709.8, -745.1, -745.2, -746, Number.NEGATIVE_INFINITY, Number.NaN];
    special.forEach((v, i) => {
      y[1000 + 3 * i] = v;
    });
    const dy = new Float64Array(n);
    dy[n - 1] = 1;
    const results = builds.map((raw) => {
      const base = (raw.__heap_base.value + 15) & ~15;
      const need = base + 24 * n;
      if (raw.memory.buffer.byteLength < need)
        raw.memory.grow(Math.ceil((need - raw.memory.buffer.byteLength) / 65536));
      new Float64Array(raw.memory.buffer, base, n).set(y);
      new Float64Array(raw.memory.buffer, base + 8 * n, n).set(dy);
      raw.log_softmax_backward_f64(base, base + 8 * n, base + 16 * n, 1, n, 1);
      return new Float64Array(raw.memory.buffer, base + 16 * n, n).slice();
    });
    let worst = 0;
    for (let i = 0; i < n - 1; i += 7) {
      const want = Math.exp(y[i]);
      if (want >= 2 ** -1022 && want < Number.POSITIVE_INFINITY)
        worst = Math.max(worst, Math.abs(-results[0][i] - want) / want);
    }
    expect(worst).toBeLessThan(4.5e-16); // two ulps
    special.forEach((v, i) => {
      const got = Math.abs(results[0][1000 + 3 * i]);
      const want = Math.exp(v);
      if (want === 0 || want === 1 || !Number.isFinite(want))
        expect(got).toBe(want); // exact: NaN, ±0, ±∞, underflow
      else expect(Math.abs(got - want)).toBeLessThanOrEqual(Math.max(4.5e-16 * want, 2 ** -1074)); // edges of the fast path
    });
    const bits = results.map((r) => new BigUint64Array(r.buffer));
    let differ = 0;
    for (let i = 0; i < n; i++) if (bits[0][i] !== bits[1][i]) differ++;
    expect(differ).toBe(0);
  });
});
