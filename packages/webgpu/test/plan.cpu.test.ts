import { describe, expect, it } from 'vitest';
import { type DeviceTraits, planFor } from '../src/plan.js';

const traits: DeviceTraits = {
  maxWorkgroupSize: 256,
  maxWorkgroupsPerDimension: 65535,
  maxBindingBytes: 2 ** 30,
  offsetAlignment: 256,
  subgroupMaxSize: 32,
  subgroupMinSize: 32,
  maxUnitThreads: 256,
  minWorkgroupSize: 64,
  targetWorkgroups: 256,
  minLanesPerThread: 8,
  lanesPerThread: 4,
};

describe('planFor (no GPU needed)', () => {
  it('uses vec4 lanes when cols is a multiple of 4 and packs short rows into workgroups', () => {
    const p = planFor(1000, 8, traits);
    expect(p.vec).toBe(4);
    expect(p.G).toBe(1);
    expect(p.WG).toBe(64); // 1000 units over about 256 workgroups: the 64-thread minimum
    expect(p.segs).toBe(1);
    expect(p.reduce).toBe('single'); // 1 thread per row: nothing to reduce
    expect(planFor(3, 10, traits).vec).toBe(1);
  });

  it('spreads one long row over many workgroups', () => {
    const p = planFor(1, 1_000_000, traits);
    expect(p.G).toBe(256);
    expect(p.segs).toBeGreaterThan(100);
    expect(p.segs * p.segLenV).toBeGreaterThanOrEqual(p.colsV);
    expect((p.segs - 1) * p.segLenV).toBeLessThan(p.colsV);
    expect(p.reduce).toBe('subgroup');
  });

  it('keeps [64, 32000] one workgroup per row unless the device would idle', () => {
    const p = planFor(64, 32000, traits);
    expect(p.G).toBe(256);
    // 256 workgroups would need 4 segments; 3 keeps ≥ 8 vec4 per thread (8000 / (3 · 256) ≥ 8)
    expect(p.segs).toBe(3);
  });

  it('reduces units of up to one subgroup by shuffles', () => {
    expect(planFor(64, 256, traits)).toMatchObject({ G: 16, reduce: 'shuffle' }); // 64 lanes, 4 per thread
    expect(planFor(64, 256, { ...traits, subgroupMinSize: 0, subgroupMaxSize: 0 }).reduce).toBe('shared');
  });

  it('on CPU adapters: units of one subgroup, long rows over about targetWorkgroups workgroups', () => {
    const cpu = {
      ...traits,
      subgroupMaxSize: 4,
      subgroupMinSize: 4,
      maxUnitThreads: 4,
      minWorkgroupSize: 1,
      targetWorkgroups: 8,
      lanesPerThread: 16,
    };
    const long = planFor(1, 1_000_000, cpu);
    expect(long).toMatchObject({ G: 4, WG: 4, segs: 8, reduce: 'shuffle' });
    expect(long.chunks[0]).toMatchObject({ gridX: 8, gridY: 1 });
    const many = planFor(1024, 1024, cpu);
    expect(many).toMatchObject({ G: 4, WG: 256, segs: 1 });
    expect(many.chunks[0].gridX).toBe(16);
    expect(planFor(4096, 128, cpu)).toMatchObject({ G: 2, reduce: 'shuffle' }); // 32 lanes: 16 per thread
    expect(planFor(8, 12, { ...cpu, maxUnitThreads: 1 })).toMatchObject({ G: 1, WG: 1, reduce: 'single' });
  });

  it('goes 2-D past maxComputeWorkgroupsPerDimension', () => {
    const p = planFor(1000, 4096, { ...traits, maxWorkgroupsPerDimension: 100 }); // one row per workgroup
    expect(p.chunks).toHaveLength(1);
    expect(p.chunks[0]).toMatchObject({ gridX: 100, gridY: 10 });
  });

  it('fits any maxWorkgroupsPerDimension ≥ 1: segments of a long row are capped, every chunk holds a row', () => {
    for (const maxDim of [1, 2, 3]) {
      const dims = { ...traits, maxWorkgroupsPerDimension: maxDim };
      for (const [rows, cols] of [
        [1, 1_000_000],
        [3, 100_000],
        [70, 64],
      ]) {
        const p = planFor(rows, cols, dims); // used to loop forever past maxDim² segments
        expect(p.segs).toBeLessThanOrEqual(maxDim * maxDim);
        expect(p.chunks.reduce((n, c) => n + c.rows, 0)).toBe(rows);
        for (const c of p.chunks) {
          expect(c.gridX).toBeLessThanOrEqual(maxDim);
          expect(c.gridY).toBeLessThanOrEqual(maxDim);
          expect(c.gridX * c.gridY * (p.WG / p.G)).toBeGreaterThanOrEqual(c.rows * p.segs);
        }
      }
    }
  });

  it('chunks inputs larger than a binding at aligned offsets', () => {
    const p = planFor(100, 37, { ...traits, maxBindingBytes: 4096 });
    expect(p.chunks.length).toBeGreaterThan(1);
    let next = 0;
    for (const c of p.chunks) {
      expect(c.firstRow).toBe(next);
      next += c.rows;
      expect(c.bindOffset % 256).toBe(0);
      expect(c.bindSize).toBeLessThanOrEqual(4096);
      expect(c.bindOffset + c.baseV * 4).toBe(c.firstRow * 37 * 4);
    }
    expect(next).toBe(100);
  });

  it('binds arrays of one value per row chunk by chunk at aligned offsets too', () => {
    const p = planFor(1000, 7, { ...traits, maxBindingBytes: 4096 });
    expect(p.chunks.length).toBeGreaterThan(4);
    for (const c of p.chunks) {
      expect(c.rowsBindOffset % 256).toBe(0);
      expect(c.rowsBindOffset + c.rowsBase * 4).toBe(c.firstRow * 4);
      expect(c.rowsBindSize).toBe(c.rowsBase * 4 + c.rows * 4);
      expect(c.rowsBindSize).toBeLessThanOrEqual(4096);
    }
    expect(p.chunks.some((c) => c.rowsBase > 0)).toBe(true); // a chunk starting inside an aligned block
  });

  it('rejects a row longer than one binding with INVALID_SHAPE', () => {
    expect(() => planFor(1, 2000, { ...traits, maxBindingBytes: 4096 })).toThrow(
      expect.objectContaining({ code: 'INVALID_SHAPE' }),
    );
  });
});
