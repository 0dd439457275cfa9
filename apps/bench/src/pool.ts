import { scenarioLabel } from '@softmax/bench-scenarios';
import { measurementKey } from './compare.js';
import type { Measurement, RunResult, ScenarioResult } from './results.js';
import { summarize } from './stats.js';

/**
 * Several runs of one build as one, for `compare`: each (scenario, candidate, mode) gets the
 * samples of every run that timed it, summarised again. On a shared machine one run's medians move
 * more than a small change does (two runs of one build minutes apart disagree by 20% at some
 * shapes); runs of the two builds taken in turn and pooled put the machine's drift on both sides
 * alike. Only timed measurements are kept, with their samples and stats (the per-run ratios would
 * be stale); the rest of the result is the first run's.
 */
export function poolRuns(runs: readonly RunResult[]): RunResult {
  if (runs.length === 0) throw new Error('poolRuns needs at least one run');
  if (runs.length === 1) return runs[0];
  const scenarios = new Map<string, ScenarioResult>();
  const measurements = new Map<string, Measurement>();
  for (const run of runs) {
    for (const s of run.scenarios) {
      const label = scenarioLabel(s);
      let pooled = scenarios.get(label);
      if (!pooled) {
        pooled = { ...s, results: [] };
        scenarios.set(label, pooled);
      }
      for (const m of s.results) {
        if (!m.stats) continue;
        const key = measurementKey(s, m.candidate, m.mode);
        let into = measurements.get(key);
        if (!into) {
          into = { candidate: m.candidate, mode: m.mode, status: m.status, samples: [] };
          measurements.set(key, into);
          pooled.results.push(into);
        }
        into.samples.push(...m.samples);
      }
    }
  }
  for (const m of measurements.values()) m.stats = summarize(m.samples);
  return { ...runs[0], scenarios: [...scenarios.values()] };
}
