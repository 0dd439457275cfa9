import { type Mode, planOf, type Suite } from '@softmax/bench-scenarios';
import { OPS } from '@softmax/core/backend';
import type { Candidate, FloatArray, LoadContext, Loaded, Output, Prepared, Problem } from './candidate.js';
import { bytesMoved, makeInputs } from './inputs.js';
import { oracle, type Verdict, verify } from './oracle.js';
import {
  type CandidateInfo,
  type Measurement,
  type MemoryFigure,
  type RunResult,
  SCHEMA,
  type ScenarioResult,
} from './results.js';
import { sampleExpectation, verifySample } from './sample-check.js';
import { summarize } from './stats.js';

/** Checks one candidate's output (of one call of the problem): against the oracle, or sample's reference rules. */
type Check = (output: Output, prepared: Prepared) => Verdict;

/** Ops whose results are not floats near the oracle's, and how each is checked instead. */
const CHECKS: Partial<Record<Problem['op'], (p: Omit<Problem, 'mode' | 'x'>) => Check>> = {
  // Tokens: the reference's kept sets and draws (sample-check.ts).
  sample: (p) => {
    const expected = sampleExpectation(p.inputs[0] as FloatArray, p.rows, p.cols, p.options, p.dtype);
    return (output, prepared) => verifySample(output, expected, prepared.ownRandom === true);
  },
};

/**
 * The options every candidate is called with, the scenario's plus the op's repeatable ones (its
 * declaration's `repeatable`: sample's fixed seed), so two candidates compute the same call; and
 * the check of what each returns: the op's own (CHECKS), or against the float64 oracle.
 */
export function checkOf(
  op: Problem['op'],
  dtype: Problem['dtype'],
  inputs: Problem['inputs'],
  rows: number,
  cols: number,
  given: Readonly<Record<string, unknown>>,
): { options: Readonly<Record<string, unknown>>; check: Check } {
  const options = { ...given, ...OPS[op].repeatable };
  const own = CHECKS[op];
  if (own) return { options, check: own({ op, dtype, inputs, rows, cols, options }) };
  const expected = oracle(op, inputs, cols, options);
  return { options, check: (output) => verify(output, expected, dtype, cols) };
}

export type BenchEvent =
  | { type: 'candidate'; info: CandidateInfo }
  | { type: 'scenario-start'; scenario: ScenarioResult; index: number; total: number }
  | { type: 'measurement'; scenario: ScenarioResult; measurement: Measurement }
  | { type: 'scenario-done'; scenario: ScenarioResult; index: number; total: number };

export interface RunOptions {
  suite: Suite;
  candidates: Candidate[];
  context: LoadContext;
  machine: Record<string, unknown>;
  onEvent?: (event: BenchEvent) => void;
  /**
   * Measures a verified candidate's memory in a scenario whose op plan asks for it (the Node CLI:
   * a fresh process per candidate, see memory-node.ts); undefined: not measured.
   */
  measureMemory?: (
    scenario: ScenarioResult,
    candidate: Candidate,
    mode: Mode,
    /** Whether the candidate reports its own memory (Prepared.memoryBytes: a wasm backend). */
    ownMemory: boolean,
  ) => Promise<MemoryFigure | undefined>;
}

/** The id of the floor candidate (a copy of the same bytes), which ratios are taken against. */
export const COPY_ID = 'copy';

const now = (): number => performance.now();
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

interface Entry {
  candidate: Candidate;
  prepared: Prepared;
  measurement: Measurement;
  iters: number;
  spentMs: number;
}

/**
 * Runs `iters` calls and returns milliseconds. Await only for candidates that are asynchronous. A
 * candidate that must be reset before each call (in place) has each call timed alone, the reset not.
 */
async function timeBatch(p: Prepared, iters: number): Promise<number> {
  await p.beforeSample?.();
  if (p.beforeEach) {
    let ms = 0;
    for (let i = 0; i < iters; i++) {
      await p.beforeEach();
      const t0 = now();
      await p.run();
      ms += now() - t0;
    }
    return ms;
  }
  if (p.async) {
    const t0 = now();
    for (let i = 0; i < iters; i++) await p.run();
    return now() - t0;
  }
  const t0 = now();
  for (let i = 0; i < iters; i++) p.run();
  return now() - t0;
}

async function loadAll(candidates: Candidate[], context: LoadContext, emit: (e: BenchEvent) => void) {
  const loaded = new Map<string, Loaded>();
  const infos: CandidateInfo[] = [];
  for (const c of candidates) {
    const info: CandidateInfo = {
      id: c.id,
      label: c.label,
      kind: c.kind,
      description: c.description,
      available: false,
    };
    try {
      const l = await c.load(context);
      loaded.set(c.id, l);
      Object.assign(info, { available: true, version: l.version, details: l.details });
    } catch (e) {
      info.reason = message(e);
    }
    infos.push(info);
    emit({ type: 'candidate', info });
  }
  return { loaded, infos };
}

/** Prepares and checks one candidate; returns an entry to time, or a measurement that explains why not. */
async function prepareChecked(
  c: Candidate,
  l: Loaded,
  problem: Problem,
  check: Check,
  maxCallMs = Number.POSITIVE_INFINITY,
): Promise<Entry | Measurement> {
  const measurement: Measurement = { candidate: c.id, mode: problem.mode, status: 'error', samples: [] };
  let prepared: Prepared | undefined;
  try {
    prepared = await l.prepare(problem);
    await prepared.beforeSample?.();
    await prepared.beforeEach?.();
    const t0 = now();
    await prepared.run();
    const callMs = now() - t0;
    const verdict = check(await prepared.output(), prepared);
    measurement.check = {
      worst: verdict.worst,
      relError: verdict.maxRelError,
      maxAbsError: verdict.maxAbsError,
      detail: verdict.detail,
    };
    if (!verdict.ok) {
      // A fast wrong answer is reported as wrong, never timed.
      measurement.status = 'wrong';
      measurement.error = verdict.detail;
      await prepared.dispose();
      return measurement;
    }
    if (callMs > maxCallMs) {
      measurement.error = `verified, not timed: one call took ${(callMs / 1000).toFixed(1)} s, beyond the suite's ${maxCallMs / 1000} s a call`;
      await prepared.dispose();
      return measurement;
    }
    measurement.status = 'ok';
    return { candidate: c, prepared, measurement, iters: 1, spentMs: 0 };
  } catch (e) {
    measurement.error = message(e);
    try {
      await prepared?.dispose();
    } catch {}
    return measurement;
  }
}

/** Warm-up, then calibrate the calls per sample so one sample lasts at least budget.sampleMs. */
async function warmAndCalibrate(entry: Entry, warmupMs: number, sampleMs: number) {
  let spent = 0;
  let runs = 0;
  while (spent < warmupMs || runs < 2) {
    spent += await timeBatch(entry.prepared, 1);
    runs++;
  }
  const single = Math.max(await timeBatch(entry.prepared, 1), 1e-4);
  let iters = Math.max(1, Math.ceil(sampleMs / single));
  // One correction pass: the first estimate of a sub-microsecond call is timer noise.
  const batch = await timeBatch(entry.prepared, iters);
  if (batch < sampleMs * 0.5) iters = Math.max(1, Math.ceil((iters * sampleMs) / Math.max(batch, 1e-4)));
  entry.iters = Math.min(iters, 1_000_000);
}

/** Up to budget.samples GPU timings (at least minSamples), within budget.maxMs of wall time. */
async function gpuSamples(entry: Entry, budget: Suite['budget']): Promise<void> {
  const samples: number[] = [];
  const t0 = now();
  await entry.prepared.beforeSample?.();
  while (samples.length < budget.minSamples || (samples.length < budget.samples && now() - t0 < budget.maxMs)) {
    await entry.prepared.beforeEach?.();
    const ns = await entry.prepared.gpuTime!();
    if (ns === undefined) return;
    samples.push(ns);
  }
  entry.measurement.gpuSamples = samples;
}

function finish(scenario: ScenarioResult, entries: Measurement[]) {
  for (const m of entries) {
    if (m.status !== 'ok' || m.samples.length === 0) continue;
    m.stats = summarize(m.samples);
    if (m.gpuSamples?.length) m.gpuStats = summarize(m.gpuSamples);
    m.nsPerElement = m.stats.median / scenario.elements;
    m.gbPerSecond = scenario.bytes / m.stats.median;
  }
  const timed = entries.filter((m) => m.stats);
  const copy = timed.find((m) => m.candidate === COPY_ID);
  for (const mode of ['user', 'kernel'] as Mode[]) {
    const same = timed.filter((m) => m.mode === mode && m.candidate !== COPY_ID);
    const fastest = Math.min(...same.map((m) => m.stats!.median));
    for (const m of same) m.ratioToFastest = m.stats!.median / fastest;
  }
  if (copy) for (const m of timed) m.ratioToCopy = m.stats!.median / copy.stats!.median;
}

export async function runSuite(options: RunOptions): Promise<RunResult> {
  const { suite, candidates, context, machine } = options;
  const runOptions = options;
  const emit = options.onEvent ?? (() => {});
  const startedAt = new Date().toISOString();
  const { loaded, infos } = await loadAll(candidates, context, emit);
  const scenarios: ScenarioResult[] = [];
  const plan = planOf(suite);
  const { budget } = suite;
  // The plans of the ops this run measures, recorded with the suite.
  const planned = suite.ops.flatMap((op) => (suite.perOp?.[op] ? [[op, suite.perOp[op]] as const] : []));

  for (const [index, { op, dtype, rows, cols, variant }] of plan.entries()) {
    const elements = rows * cols;
    const given = variant?.options ?? {};
    const opPlan = suite.perOp?.[op];
    const scenario: ScenarioResult = {
      op,
      ...(variant ? { variant: variant.name, options: variant.options } : {}),
      dtype,
      rows,
      cols,
      elements,
      bytes: bytesMoved(op, dtype, rows, cols, given),
      results: [],
    };
    emit({ type: 'scenario-start', scenario, index, total: plan.length });
    const inputs = makeInputs(op, dtype, rows, cols, undefined, opPlan);
    const { options, check } = checkOf(op, dtype, inputs, rows, cols, given);
    const x = inputs[0] as FloatArray;
    const expectedCopy = Float64Array.from(x);
    const checkCopy: Check = (output) => verify(output, expectedCopy, dtype, cols);

    const entries: Entry[] = [];
    const ownMemory = new Set<Measurement>();
    for (const c of candidates) {
      const l = loaded.get(c.id);
      if (!l) continue;
      for (const mode of suite.modes) {
        if (!l.supports(op, dtype, mode, options)) continue;
        const problem: Problem = {
          op,
          dtype,
          mode,
          rows,
          cols,
          inputs,
          x,
          options,
          ...(variant ? { variant: variant.name } : {}),
        };
        const got = await prepareChecked(c, l, problem, c.kind === 'floor' ? checkCopy : check, budget.maxCallMs);
        if ('prepared' in got) {
          entries.push(got);
          if (got.prepared.memoryBytes) ownMemory.add(got.measurement);
          scenario.results.push(got.measurement);
        } else {
          scenario.results.push(got);
          emit({ type: 'measurement', scenario, measurement: got });
        }
        await tick();
      }
    }

    for (const entry of [...entries]) {
      try {
        await warmAndCalibrate(entry, budget.warmupMs, budget.sampleMs);
        entry.measurement.itersPerSample = entry.iters;
      } catch (e) {
        Object.assign(entry.measurement, { status: 'error', error: message(e) });
        entries.splice(entries.indexOf(entry), 1);
        await Promise.resolve(entry.prepared.dispose()).catch(() => {});
      }
    }

    // Interleaved rounds: each round takes one sample of every candidate, in a rotating order,
    // so a slow spell of the (shared) machine lands on all of them rather than on one.
    for (let round = 0; entries.length > 0; round++) {
      const active = entries.filter(
        (e) =>
          e.measurement.samples.length < budget.minSamples ||
          (e.measurement.samples.length < budget.samples && e.spentMs < budget.maxMs),
      );
      if (active.length === 0) break;
      for (let k = 0; k < active.length; k++) {
        const entry = active[(k + round) % active.length];
        if (entry.measurement.status !== 'ok') continue;
        try {
          const ms = await timeBatch(entry.prepared, entry.iters);
          entry.spentMs += ms;
          entry.measurement.samples.push((ms * 1e6) / entry.iters);
        } catch (e) {
          Object.assign(entry.measurement, { status: 'error', error: message(e), samples: [] });
          entries.splice(entries.indexOf(entry), 1);
          await Promise.resolve(entry.prepared.dispose()).catch(() => {});
        }
      }
      await tick();
    }

    // GPU time (timestamp queries) for candidates that report it, after the wall samples so that
    // resolving and reading the queries never lands inside a timed batch.
    for (const entry of entries) {
      if (entry.measurement.status !== 'ok' || !entry.prepared.gpuTime) continue;
      try {
        await gpuSamples(entry, budget);
      } catch (e) {
        entry.measurement.gpuSamples = undefined;
        entry.measurement.error = `GPU time: ${message(e)}`;
      }
    }

    for (const entry of entries) {
      try {
        await entry.prepared.dispose();
      } catch {}
    }
    finish(scenario, scenario.results);
    // Memory, where the op's plan asks for it: after the timings, never beside them.
    const { measureMemory } = runOptions;
    if (opPlan?.memory && measureMemory) {
      for (const m of scenario.results.filter((r) => r.status === 'ok')) {
        const c = candidates.find((k) => k.id === m.candidate)!;
        if (c.kind === 'floor') continue;
        try {
          m.memory = await measureMemory(scenario, c, m.mode, ownMemory.has(m));
        } catch (e) {
          m.memory = { error: message(e) };
        }
      }
    }
    for (const m of scenario.results.filter((r) => r.status === 'ok'))
      emit({ type: 'measurement', scenario, measurement: m });
    scenarios.push(scenario);
    emit({ type: 'scenario-done', scenario, index, total: plan.length });
  }

  for (const [id, l] of loaded) {
    try {
      const info = infos.find((i) => i.id === id)!;
      if (l.summary) info.summary = l.summary();
      await l.dispose();
    } catch {}
  }
  return {
    schema: SCHEMA,
    startedAt,
    finishedAt: new Date().toISOString(),
    suite: {
      name: suite.name,
      budget,
      ops: suite.ops,
      dtypes: suite.dtypes,
      modes: suite.modes,
      shapes: suite.shapes,
      ...(planned.length > 0 ? { perOp: Object.fromEntries(planned) } : {}),
    },
    machine,
    candidates: infos,
    scenarios,
  };
}
