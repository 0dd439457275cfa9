import autoPackage from '@softmax/auto/package.json';
import { scenarioLabel } from '@softmax/bench-scenarios';
import type { Candidate, Problem } from '../candidate.js';
import { argsOf, backendLoaded, workingInputs } from './backend-candidate.js';

/** Calls of a new shape whose total is auto's learning cost (the "first 20 calls"). */
export const LEARNING_CALLS = 20;
/** The learning calls stop once they have taken this long (the calls made are recorded). */
export const LEARNING_BUDGET_MS = 10_000;

/** What the auto candidate records in its summary (the report's auto section reads it). */
export interface AutoSummary {
  /** formatExplain(explain()) after the last scenario. */
  explainText: string;
  /** Per scenario ("op dtype shape", or "op variant dtype shape"): the first LEARNING_CALLS calls of that shape, total ms. */
  learningMs: Record<string, number>;
  /** Where fewer than LEARNING_CALLS calls were made (the budget ran out): how many. */
  learningCalls?: Record<string, number>;
}

export const scenarioKey = (p: { op: string; variant?: string; dtype: string; rows: number; cols: number }): string =>
  scenarioLabel(p);

/**
 * @softmax/auto as an application uses it: one instance, every call through its Promise API, the
 * backend chosen per shape by measurement. Each shape's first LEARNING_CALLS calls (where auto
 * explores) are timed apart as its learning cost; the harness then times it as it does the others,
 * so its figures are those after 20 calls. explain() is recorded in the summary.
 */
export const auto: Candidate = {
  id: 'auto',
  label: '@softmax/auto',
  kind: 'ours',
  description:
    'every call on the candidate (core, wasm 1 thread, wasm every core, webgpu) its measured cost table picks; array in → array out',
  noMemoryProbe:
    'its first calls of a shape explore several backends, so a first call says little: its memory is that of the backend it settles on',
  async load(ctx) {
    const { createSoftmax, formatExplain } = await import('@softmax/auto');
    const instance = createSoftmax(ctx.gpu ? {} : { backends: ['core', 'wasm'] });
    await instance.ready();
    const loaded = backendLoaded(instance, autoPackage.version, {
      isAsync: true,
      details: { backends: 'measured per shape' },
    });
    const learningMs: Record<string, number> = {};
    const learningCalls: Record<string, number> = {};
    const call = instance as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    return {
      ...loaded,
      async prepare(p: Problem) {
        const prepared = await loaded.prepare(p);
        const key = scenarioKey(p);
        if (p.mode === 'user' && learningMs[key] === undefined) {
          // An in-place call writes over its own copy of the logits, put back (untimed) before each call.
          // At most LEARNING_BUDGET_MS of calls: a call of core's full-sort sample at 32 × 151,936 takes a minute.
          const { inputs, restore } = workingInputs(p);
          let ms = 0;
          let calls = 0;
          while (calls < LEARNING_CALLS && ms < LEARNING_BUDGET_MS) {
            restore?.();
            const t0 = performance.now();
            await call[p.op](...argsOf(p, inputs));
            ms += performance.now() - t0;
            calls++;
          }
          learningMs[key] = ms;
          if (calls < LEARNING_CALLS) learningCalls[key] = calls;
        }
        return prepared;
      },
      summary: (): AutoSummary => ({
        explainText: formatExplain(instance.explain()),
        learningMs,
        ...(Object.keys(learningCalls).length > 0 ? { learningCalls } : {}),
      }),
    };
  },
};
