import { describe, expect, it } from 'vitest';
import { RING, Samples } from '../src/samples.js';

// The statistics the selector decides on, against a plain computation over the ring's last RING
// timings (sorted afresh): the sorted view kept up to date as timings come and go must agree.
function reference(timings: number[]) {
  const ring = timings.slice(-RING).sort((a, b) => a - b);
  const q = (p: number) => {
    const pos = (ring.length - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return ring[lo] + (ring[hi] - ring[lo]) * (pos - lo);
  };
  const median = q(0.5);
  return { median, min: ring[0], spread: ring.length < 3 ? 0 : (q(0.75) - q(0.25)) / 2 / median };
}

describe('Samples', () => {
  it('median, min and spread follow the ring as timings replace each other (ties included)', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 50; trial++) {
      const s = new Samples();
      // The first timing is kept: later ones are never less than half of it (no cold-start drop).
      const timings = [1];
      s.add(1);
      const n = 1 + Math.floor(next() * 3 * RING);
      for (let i = 0; i < n; i++) {
        const ms = 0.5 + Math.round(next() * 8) / 4; // few distinct values: many ties
        timings.push(ms);
        s.add(ms);
        const want = reference(timings);
        expect(s.median).toBe(want.median);
        expect(s.min).toBe(want.min);
        expect(s.spread).toBeCloseTo(want.spread, 12);
      }
      expect(s.size).toBe(Math.min(RING, timings.length));
    }
  });

  it('a cold first timing is dropped, and seeded values give way to the first measurement', () => {
    const s = new Samples();
    s.add(10);
    s.add(1);
    expect([s.size, s.median, s.min]).toEqual([1, 1, 1]);
    s.seed(2, 0.5, 5, 'persisted');
    expect([s.size, s.median, s.min]).toEqual([3, 2, 1]);
    s.add(4);
    expect([s.size, s.median, s.min, s.source]).toEqual([1, 4, 4, 'measured']);
  });
});
