import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** pkg/ as the build lays it out (wasm-pack's layout). */
export const pkgPath = (file: string) => fileURLToPath(new URL(`../pkg/${file}`, import.meta.url));
export const simdBytes = () => readFileSync(pkgPath('softmax_wasm_bg.wasm'));
export const scalarBytes = () => readFileSync(pkgPath('softmax_wasm_scalar_bg.wasm'));

/** Deterministic uniform numbers in [lo, hi) (mulberry32). */
export function random(seed: number): (lo: number, hi: number) => number {
  let a = seed >>> 0;
  return (lo, hi) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo);
  };
}
