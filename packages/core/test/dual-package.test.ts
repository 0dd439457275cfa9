import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The dual-package hazard: an application that loads @softmax/core once through `require` (the
 * CJS build) and once through `import` (the ESM build) has two SoftmaxError classes.
 * `instanceof` must still be true across them, both ways, and false for anything else.
 */
type Core = typeof import('../src/index.js');
const dist = resolve(import.meta.dirname, '..', 'dist');
let cjs: Core;
let esm: Core;

function thrown(core: Core): unknown {
  try {
    core.softmax([1], { temperature: 0 });
  } catch (error) {
    return error;
  }
  throw new Error('softmax accepted temperature 0');
}

beforeAll(async () => {
  for (const file of ['index.cjs', 'index.js'])
    if (!existsSync(resolve(dist, file))) throw new Error(`dist/${file} is missing: build @softmax/core first`);
  cjs = createRequire(import.meta.url)(resolve(dist, 'index.cjs')) as Core;
  esm = (await import(pathToFileURL(resolve(dist, 'index.js')).href)) as Core;
});

describe('SoftmaxError across a CJS-loaded and an ESM-loaded copy of core', () => {
  it('are two classes (the hazard is real here)', () => {
    expect(cjs.SoftmaxError).not.toBe(esm.SoftmaxError);
  });

  it('instanceof is true both ways, for thrown and constructed errors', () => {
    const fromCjs = thrown(cjs);
    const fromEsm = thrown(esm);
    expect(fromCjs instanceof esm.SoftmaxError).toBe(true);
    expect(fromEsm instanceof cjs.SoftmaxError).toBe(true);
    expect(fromCjs instanceof cjs.SoftmaxError && fromEsm instanceof esm.SoftmaxError).toBe(true);
    expect(new cjs.SoftmaxError('DEVICE_LOST', 'x') instanceof esm.SoftmaxError).toBe(true);
    expect(new esm.SoftmaxError('DEVICE_LOST', 'x') instanceof cjs.SoftmaxError).toBe(true);
    expect(fromEsm instanceof Error).toBe(true);
  });

  it('keeps the code and the message of each copy', () => {
    const a = thrown(cjs) as InstanceType<Core['SoftmaxError']>;
    const b = thrown(esm) as InstanceType<Core['SoftmaxError']>;
    expect([a.name, a.code, a.message]).toEqual([b.name, b.code, b.message]);
    expect(a.code).toBe('INVALID_OPTION');
  });

  it('a plain Error, a look-alike or a primitive is not a SoftmaxError', () => {
    for (const core of [cjs, esm]) {
      expect(new Error('no') instanceof core.SoftmaxError).toBe(false);
      const lookalike = Object.assign(new Error('no'), { name: 'SoftmaxError', code: 'INVALID_INPUT' });
      expect(lookalike instanceof core.SoftmaxError).toBe(false);
      expect((null as unknown) instanceof core.SoftmaxError).toBe(false);
      expect(('SoftmaxError' as unknown) instanceof core.SoftmaxError).toBe(false);
    }
  });

  it('a subclass keeps the ordinary check', () => {
    class Sub extends esm.SoftmaxError {}
    expect(new Sub('INVALID_INPUT', 'x') instanceof Sub).toBe(true);
    expect(new Sub('INVALID_INPUT', 'x') instanceof cjs.SoftmaxError).toBe(true);
    expect(thrown(esm) instanceof Sub).toBe(false);
  });
});
