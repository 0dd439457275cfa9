import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchDtype, Mode, Op, OpPlan } from '@softmax/bench-scenarios';
import type { Candidate, FloatArray, Problem } from './candidate.js';
import { makeInputs, returnedMatrixBytes } from './inputs.js';
import { nodeCandidates, nodeContext } from './registry-node.js';
import type { MemoryFigure, ScenarioResult } from './results.js';

/**
 * The memory of one call, in Node: the candidate's first call at the scenario's shape, in a fresh
 * process (`cli.js memory-probe`, with --expose-gc), after warm-up calls at a tiny shape (code
 * compiled, modules loaded) and with garbage collected. Linux's peak resident set (VmHWM) is reset
 * to the current one through /proc/self/clear_refs just before the call, so the peak it reads after
 * is the call's own. A fresh process, because memory an earlier call grew and kept (a wasm heap,
 * tfjs's tensor storage, malloc's free lists) would hide what a call needs.
 */

/** What the child measures (kB for the resident set, bytes for the candidate's own memory). */
interface Probe {
  rssBeforeKiB: number;
  rssPeakKiB: number;
  ownBefore?: number;
  ownAfter?: number;
}

interface ProbeSpec {
  candidate: string;
  op: Op;
  variant?: string;
  options: Record<string, unknown>;
  dtype: BenchDtype;
  mode: Mode;
  rows: number;
  cols: number;
  plan?: OpPlan;
}

const MARK = 'softmax-bench-memory ';
const WARM_CALLS = 30;

/** Runs the probe in a fresh process and turns its readings into the figure (undefined: nothing measurable). */
export async function probeMemory(
  scenario: ScenarioResult,
  candidate: Candidate,
  mode: Mode,
  plan: OpPlan | undefined,
  ownMemory: boolean,
): Promise<MemoryFigure | undefined> {
  if (candidate.noMemoryProbe) return undefined;
  // Kernel mode: the resident set would count the candidate's own buffers differently for each
  // library; only a candidate's own memory (wasm) says what the call itself needs there.
  if (mode === 'kernel' && !ownMemory) return undefined;
  const spec: ProbeSpec = {
    candidate: candidate.id,
    op: scenario.op,
    variant: scenario.variant,
    options: { ...(scenario.options ?? {}) },
    dtype: scenario.dtype,
    mode,
    rows: scenario.rows,
    cols: scenario.cols,
    plan,
  };
  const cli = fileURLToPath(import.meta.url);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', cli, 'memory-probe', JSON.stringify(spec)],
    { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 },
  );
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`the memory probe printed no result: ${stdout.slice(-300)}`);
  const probe = JSON.parse(line.slice(MARK.length)) as Probe | { error: string };
  if ('error' in probe) return { error: probe.error };
  const ownGrowth =
    probe.ownBefore !== undefined && probe.ownAfter !== undefined ? probe.ownAfter - probe.ownBefore : undefined;
  if (mode === 'kernel') return ownGrowth === undefined ? undefined : { ownGrowth };
  const rssPeakDelta = (probe.rssPeakKiB - probe.rssBeforeKiB) * 1024;
  const returnedBytes = returnedMatrixBytes(scenario.op, scenario.dtype, scenario.rows, scenario.cols, spec.options);
  return {
    rssPeakDelta,
    returnedBytes,
    extra: rssPeakDelta - returnedBytes,
    ...(ownGrowth === undefined ? {} : { ownGrowth }),
  };
}

const statusKiB = (): { rss: number; hwm: number } => {
  const s = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(s)?.[1]);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
};

/** Collects garbage until the resident set stops falling (V8 frees large backing stores lazily). */
async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the memory probe needs node --expose-gc');
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const { rss } = statusKiB();
    if (rss >= last - 64) return;
    last = rss;
  }
}

/** The child's side (`cli.js memory-probe SPEC`): prints one line, MARK + the readings as JSON. */
export async function runMemoryProbe(specText: string): Promise<void> {
  const spec = JSON.parse(specText) as ProbeSpec;
  const print = (v: unknown) => process.stdout.write(`${MARK}${JSON.stringify(v)}\n`);
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch (e) {
    print({ error: `needs Linux's /proc/self/clear_refs to reset the peak resident set: ${(e as Error).message}` });
    return;
  }
  const candidate = nodeCandidates.find((c) => c.id === spec.candidate);
  if (!candidate) throw new Error(`no candidate ${spec.candidate}`);
  const { context } = await nodeContext();
  const loaded = await candidate.load(context);
  const problem = (rows: number, cols: number): Problem => {
    const inputs = makeInputs(spec.op, spec.dtype, rows, cols, undefined, spec.plan);
    return {
      op: spec.op,
      dtype: spec.dtype,
      mode: spec.mode,
      rows,
      cols,
      inputs,
      x: inputs[0] as FloatArray,
      options: spec.options,
      ...(spec.variant ? { variant: spec.variant } : {}),
    };
  };
  // Enough calls at a tiny shape that the JIT has compiled the call's code: a compile during the
  // measured call would count the compiler's own memory.
  const warm = await loaded.prepare(problem(Math.min(spec.rows, 4), Math.min(spec.cols, 512)));
  for (let i = 0; i < WARM_CALLS; i++) {
    await warm.beforeSample?.();
    await warm.beforeEach?.();
    await warm.run();
  }
  await warm.output();
  await warm.dispose();
  const prepared = await loaded.prepare(problem(spec.rows, spec.cols));
  await prepared.beforeSample?.();
  await prepared.beforeEach?.();
  await settle();
  const ownBefore = prepared.memoryBytes?.();
  writeFileSync('/proc/self/clear_refs', '5');
  const before = statusKiB();
  await prepared.run();
  const after = statusKiB();
  const ownAfter = prepared.memoryBytes?.();
  print({ rssBeforeKiB: before.rss, rssPeakKiB: after.hwm, ownBefore, ownAfter } satisfies Probe);
  await prepared.dispose();
  await loaded.dispose();
}
