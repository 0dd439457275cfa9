import { describe, expect, it } from 'vitest';
import { type DeviceTraits, planFor } from '../src/plan.js';

const traits: DeviceTraits = {
  maxWorkgroupSize: 256,
  maxWorkgroupsPerDimension: 65535,
  maxBindingBytes: 2 ** 30,
  offsetAlignment: 256,
  subgroupMaxSize: 32,
  targetWorkgroups: 256,
  minLanesPerThread: 8,
  lanesPerThread: 4,
};

describe('planFor (no GPU needed)', () => {
  it('uses vec4 lanes when cols is a multiple of 4 and packs short rows into one workgroup', () => {
    const p = planFor(1000, 8, traits);
    expect(p.vec).toBe(4);
    expect(p.G).toBe(1);
    expect(p.WG).toBe(256);
    expect(p.segs).toBe(1);
    expect(p.subgroups).toBe(false); // 1 thread per row: no subgroup spans one row
    expect(planFor(3, 10, traits).vec).toBe(1);
  });

  it('spreads one long row over many workgroups', () => {
    const p = planFor(1, 1_000_000, traits);
    expect(p.G).toBe(256);
    expect(p.segs).toBeGreaterThan(100);
    expect(p.segs * p.segLenV).toBeGreaterThanOrEqual(p.colsV);
    expect((p.segs - 1) * p.segLenV).toBeLessThan(p.colsV);
    expect(p.subgroups).toBe(true);
  });

  it('keeps [64, 32000] one workgroup per row unless the device would idle', () => {
    const p = planFor(64, 32000, traits);
    expect(p.G).toBe(256);
    // 256 workgroups would need 4 segments; 3 keeps ≥ 8 vec4 per thread (8000 / (3 · 256) ≥ 8)
    expect(p.segs).toBe(3);
  });

  it('goes 2-D past maxComputeWorkgroupsPerDimension', () => {
    const p = planFor(1000, 4096, { ...traits, maxWorkgroupsPerDimension: 100 }); // one row per workgroup
    expect(p.chunks).toHaveLength(1);
    expect(p.chunks[0]).toMatchObject({ gridX: 100, gridY: 10 });
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

  it('rejects a row longer than one binding with INVALID_SHAPE', () => {
    expect(() => planFor(1, 2000, { ...traits, maxBindingBytes: 4096 })).toThrow(
      expect.objectContaining({ code: 'INVALID_SHAPE' }),
    );
  });
});
