import { describe, expect, it } from 'vitest';
import { createSoftmax } from '../src/index.js';
import { WAIT_BUDGET_MS } from '../src/load-wait.js';
import { type FakeSpec, fakeClock, fakeLoaders, logits } from './fakes.js';

// A loop of awaited calls that run synchronously on core never gives the event loop a turn, and
// wasm's load (here: a timer, as a WebAssembly compile resolves in a task) would never finish.
// Core costs 5 ms a call at 100,000 elements on the fake clock, wasm 0.1 ms.
const CORE: FakeSpec = { fixed: 0, perElement: 50e-6 };
const WASM: FakeSpec = { fixed: 0, perElement: 1e-6 };

/** Core and wasm on one thread, wasm's load ending when `wasmInit` resolves. */
function autoWith(wasmInit: () => Promise<void>, core = CORE) {
  const clock = fakeClock();
  return createSoftmax({
    clock: clock.now,
    backends: ['core', 'wasm'],
    threads: 1,
    loaders: fakeLoaders(clock, { core, wasm: WASM }, { wasmInit }),
  });
}

const after = (ms: number) => () => new Promise<void>((r) => setTimeout(r, ms));

function servedBy(auto: ReturnType<typeof createSoftmax>) {
  return Object.fromEntries(auto.explain().backends.map((b) => [b.id, b.served]));
}

describe('calls while a faster candidate loads', () => {
  it('a loop of awaited calls served by a slow core lets wasm load, and wasm then serves them', async () => {
    const auto = autoWith(after(20));
    const x = logits(100_000);
    for (let i = 0; i < 30; i++) await auto.softmax(x);
    const served = servedBy(auto);
    expect(served.wasm).toBeGreaterThanOrEqual(20);
    expect(served.core + served.wasm).toBeGreaterThanOrEqual(30);
    await auto.dispose();
  });

  it('a load that never ends delays the calls by at most WAIT_BUDGET_MS in all', async () => {
    // Core at 500 ms a call: each call would wait that long for wasm, but for the budget.
    const auto = autoWith(() => new Promise(() => {}), { fixed: 0, perElement: 0.05 });
    const x = logits(10_000);
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await auto.softmax(x);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(WAIT_BUDGET_MS - 50);
    expect(elapsed).toBeLessThan(WAIT_BUDGET_MS + 1500);
    expect(servedBy(auto).core).toBe(20);
  });

  it('small calls only yield: no wait when a call costs less than a millisecond on what is ready', async () => {
    const auto = autoWith(after(20));
    const x = logits(100);
    const t0 = performance.now();
    // 0.005 ms a call on core: 20 ms of real waiting per call would show at once.
    for (let i = 0; i < 20; i++) await auto.softmax(x);
    expect(performance.now() - t0).toBeLessThan(200);
    await auto.dispose();
  });
});
