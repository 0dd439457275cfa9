#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  allOps,
  type BenchDtype,
  type Mode,
  type Op,
  overriding,
  parseShapes,
  type Suite,
  scenarioLabel,
  shapeLabel,
  suites,
} from '@softmax/bench-scenarios';
import { measureAutoFigures } from './auto-figures.js';
import { autoSection } from './auto-report.js';
import { chartFile, chartKeys, chartSvg } from './chart.js';
import { compareRuns, comparisonTable, driftLine } from './compare.js';
import { crossEntropySection, ratioChartSvg } from './cross-entropy-report.js';
import { candidateLines, duration, markdownReport, summaryRows, terminalReport, textTable } from './format.js';
import { describeNodeMachine } from './machine-node.js';
import { probeMemory, runMemoryProbe } from './memory-node.js';
import { poolRuns } from './pool.js';
import { nodeCandidates, nodeContext } from './registry-node.js';
import type { RunResult } from './results.js';
import { runSuite } from './runner.js';
import { sampleSection } from './sample-report.js';

const usage = `softmax-bench: every softmax backend against TensorFlow.js, ONNX Runtime and plain JS.

  softmax-bench [options]             run the suite (default: the full suite: softmax, crossEntropy
                                      at its own shapes with its memory, and sample at its own shapes
                                      and calls)
  softmax-bench compare A.json B.json diff two result files, each candidate judged against the copy
                                      floor of its own run; exit 1 on a regression beyond noise
                                      (--informational: report only, exit 0). A1.json,A2.json on a
                                      side pools the samples of several runs of one build
  softmax-bench report RESULT.json    write the Markdown report and SVG charts again from a result file

options:
  --quick               a smoke run (few small shapes, short samples): well under a minute
  --shapes 64x32000,1x10      (replaces every op's shapes, crossEntropy's and sample's too)
  --op softmax,logSoftmax,softmaxBackward,logSoftmaxBackward,logSumExp,crossEntropy,sample | all
  --dtype float32,float64     (replaces every op's float types)
  --memory | --no-memory      measure (or not) each crossEntropy call's extra memory, a fresh
                              process per candidate (default: on in the full suite, off with --quick)
  --mode user,kernel
  --only core,tfjs-wasm,...   candidates to run (ids; the floor "copy" is always kept)
  --out DIR             where results go (default: bench/results, or bench/results/tmp with --quick)
  --name NAME           file name stem (default: the suite's name: full or quick)
  --help`;

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Dawn needs a Vulkan driver. Without a GPU, use SwiftShader from Debian's chromium; the loader
 * path must be in the environment before the process starts, so the CLI restarts itself once.
 */
function reexecWithSwiftShader(): number | undefined {
  if (process.env.VK_ICD_FILENAMES || process.env.SOFTMAX_BENCH_NO_SWIFTSHADER || !existsSync(SWIFTSHADER_ICD))
    return undefined;
  const env = {
    ...process.env,
    VK_ICD_FILENAMES: SWIFTSHADER_ICD,
    LD_LIBRARY_PATH: ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    // No implicit layers from the machine's other Vulkan packages (as in the WebGPU tests).
    VK_LOADER_LAYERS_DISABLE: process.env.VK_LOADER_LAYERS_DISABLE ?? '~implicit~',
  };
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { env, stdio: 'inherit' });
  return child.status ?? 1; // the restarted run's status (1 if a signal ended it)
}

function parseArgs(argv: string[]) {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) positional.push(a);
    else if (['--quick', '--help', '--informational', '--memory', '--no-memory'].includes(a))
      flags.set(a.slice(2), 'true');
    else {
      const [k, inline] = a.slice(2).split('=', 2);
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      flags.set(k, v);
    }
  }
  return { flags, positional };
}

const list = (v: string | undefined): string[] | undefined =>
  v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function oneOf<T extends string>(values: string[] | undefined, allowed: readonly T[], what: string): T[] | undefined {
  if (!values) return undefined;
  for (const v of values)
    if (!allowed.includes(v as T)) throw new Error(`unknown ${what} "${v}" (known: ${allowed.join(', ')})`);
  return values as T[];
}

/** Paths the user typed are relative to where they ran the command (pnpm runs scripts in apps/bench). */
const fromUser = (p: string): string => path.resolve(process.env.INIT_CWD ?? process.cwd(), p);

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Exit 1 on a regression, unless `informational` (the main command's comparison, which must end cleanly). */
function compare(files: string[], informational: boolean): number {
  if (files.length !== 2) throw new Error('compare needs two result files: compare A.json B.json');
  // Each side: one result file, or several runs of one build (comma-separated), pooled.
  const [a, b] = files.map((side) =>
    poolRuns(side.split(',').map((f) => JSON.parse(readFileSync(fromUser(f), 'utf8')) as RunResult)),
  );
  const rows = compareRuns(a, b);
  console.log(comparisonTable(rows));
  const regressions = rows.filter((r) => r.verdict === 'regression');
  const improvements = rows.filter((r) => r.verdict === 'improvement');
  const floors = rows.filter((r) => r.verdict === 'floor');
  console.log(
    `\n${rows.length} pairs: ${regressions.length} regressions, ${improvements.length} improvements, ${rows.length - regressions.length - improvements.length - floors.length} within noise (changes smaller than the half-IQRs involved), ${floors.length} floor.`,
  );
  console.log(driftLine(rows));
  return regressions.length > 0 && !informational ? 1 : 0;
}

/**
 * Writes NAME.json (every sample), NAME.md and one SVG chart per (op, call, dtype), plus
 * crossEntropy's speed-ups when it ran. Returns the chart files.
 */
function writeFiles(result: RunResult, outDir: string, name: string, json = true): string[] {
  mkdirSync(outDir, { recursive: true });
  const charts = chartKeys(result.scenarios).map((k) => {
    const file = chartFile(name, k);
    writeFileSync(path.join(outDir, file), chartSvg(result.scenarios, result.candidates, k.op, k.dtype, k.variant));
    return file;
  });
  const ratios = ratioChartSvg(result);
  const ratioFile = `${name}-crossEntropy-speedups.svg`;
  if (ratios) {
    writeFileSync(path.join(outDir, ratioFile), ratios);
    charts.push(ratioFile);
  }
  if (json) writeFileSync(path.join(outDir, `${name}.json`), `${JSON.stringify(result, null, 1)}\n`);
  writeFileSync(
    path.join(outDir, `${name}.md`),
    [
      markdownReport(
        result,
        charts.filter((c) => c !== ratioFile),
      ),
      ...withBreak(crossEntropySection(result, true, ratios ? ratioFile : undefined)),
      ...withBreak(sampleSection(result, true)),
      ...autoSection(result, true),
      '',
    ].join('\n'),
  );

  return charts;
}

/** A section's lines and a blank line after them (none for an empty section). */
const withBreak = (lines: string[]): string[] => (lines.length > 0 ? [...lines, ''] : []);

/** Renders the Markdown report and charts again from a result file (e.g. after a format change). */
function report(files: string[], flags: Map<string, string>): number {
  if (files.length !== 1) throw new Error('report needs one result file: report RESULT.json');
  const file = fromUser(files[0]);
  const result = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
  const outDir = flags.has('out') ? fromUser(flags.get('out')!) : path.dirname(file);
  const name = flags.get('name') ?? path.basename(file, '.json');
  const charts = writeFiles(result, outDir, name, false);
  console.log(`wrote ${path.join(outDir, `${name}.md`)} and ${charts.length} chart(s)`);
  return 0;
}

async function run(flags: Map<string, string>): Promise<number> {
  const base: Suite = flags.has('quick') ? suites.quick : suites.full;
  const ops = flags.get('op') === 'all' ? allOps : oneOf<Op>(list(flags.get('op')), allOps, 'op');
  const given = overriding(base, {
    shapes: flags.has('shapes') ? parseShapes(flags.get('shapes')!) : undefined,
    dtypes: oneOf<BenchDtype>(list(flags.get('dtype')), ['float32', 'float64'], 'dtype'),
  });
  const memory = flags.has('memory') ? true : flags.has('no-memory') ? false : undefined;
  const suite: Suite = {
    ...given,
    ops: ops ?? base.ops,
    modes: oneOf<Mode>(list(flags.get('mode')), ['user', 'kernel'], 'mode') ?? base.modes,
    perOp: Object.fromEntries(
      Object.entries(given.perOp ?? {}).map(([op, plan]) => [op, { ...plan, memory: memory ?? plan.memory }]),
    ),
  };
  const only = list(flags.get('only'));
  const candidates = only ? nodeCandidates.filter((c) => only.includes(c.id) || c.kind === 'floor') : nodeCandidates;
  const outDir = flags.has('out')
    ? fromUser(flags.get('out')!)
    : path.join(repoRoot, 'bench/results', flags.has('quick') ? 'tmp' : '');
  const name = flags.get('name') ?? suite.name;

  const err = (line: string) => process.stderr.write(`${line}\n`);
  const planned = suite.ops.filter((op) => suite.perOp?.[op]?.shapes || suite.perOp?.[op]?.dtypes);
  const others = suite.ops.filter((op) => !planned.includes(op));
  const part = (ops: Op[], dtypes: BenchDtype[], shapes: Suite['shapes']) =>
    `${ops.join(',')} × ${dtypes.join(',')} × ${shapes.map(shapeLabel).join(', ')}`;
  err(
    `softmax-bench: ${suite.name} suite: ${[
      ...(others.length ? [part(others, suite.dtypes, suite.shapes)] : []),
      ...planned.map((op) => {
        const plan = suite.perOp![op]!;
        return part([op], plan.dtypes ?? suite.dtypes, plan.shapes ?? suite.shapes);
      }),
    ].join('; ')}`,
  );
  const { context, adapter } = await nodeContext();
  const t0 = performance.now();
  const result = await runSuite({
    suite,
    candidates,
    context,
    machine: describeNodeMachine(adapter),
    measureMemory: (scenario, candidate, mode, ownMemory) =>
      probeMemory(scenario, candidate, mode, suite.perOp?.[scenario.op], ownMemory),
    onEvent(e) {
      if (e.type === 'candidate') err(`  ${candidateLines([e.info])[0]}`);
      if (e.type === 'scenario-start') err(`[${e.index + 1}/${e.total}] ${scenarioLabel(e.scenario)}`);
      if (e.type === 'measurement') {
        const m = e.measurement;
        const what = m.stats
          ? `${duration(m.stats.median)}  ${m.nsPerElement!.toPrecision(3)} ns/elem`
          : `${m.status}: ${m.error}`;
        err(`    ${m.candidate.padEnd(12)} ${m.mode.padEnd(6)} ${what}`);
      }
    },
  });

  if (result.candidates.some((c) => c.id === 'auto' && c.available)) {
    err('  @softmax/auto: first call after import, dispatch overhead');
    try {
      result.autoFigures = await measureAutoFigures();
    } catch (e) {
      err(`  @softmax/auto figures not measured: ${e instanceof Error ? e.message : e}`);
    }
  }
  // A shared machine's load explains noisy figures: record it after the run too.
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' });
  if (git.status === 0) result.machine.commit = git.stdout.trim();
  result.machine.loadAverageAfter = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const charts = writeFiles(result, outDir, name);

  console.log(`\n${terminalReport(result)}\n`);
  console.log(`Ours against the fastest peer\n${textTable(summaryRows(result))}\n`);
  const ceLines = crossEntropySection(result, false);
  if (ceLines.length > 0) console.log(`${ceLines.join('\n')}\n`);
  const sampleLines = sampleSection(result, false);
  if (sampleLines.length > 0) console.log(`${sampleLines.join('\n')}\n`);
  const autoLines = autoSection(result, false);
  if (autoLines.length > 0) console.log(`${autoLines.join('\n')}\n`);
  const unavailable = result.candidates.filter((c) => !c.available);
  for (const c of unavailable) console.log(`unavailable: ${c.label}: ${c.reason}`);
  const bad = result.scenarios.flatMap((s) =>
    s.results
      .filter((m) => m.status !== 'ok')
      .map((m) => `${m.candidate} ${m.mode} ${scenarioLabel(s)}: ${m.status} ${m.error ?? ''}`),
  );
  for (const b of bad) console.log(`not timed: ${b}`);
  console.log(
    `\nwrote ${path.join(outDir, `${name}.json`)}, ${name}.md and ${charts.length} chart(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return 0;
}

async function main(): Promise<number> {
  const { flags, positional } = parseArgs(process.argv.slice(2));
  if (flags.has('help')) {
    console.log(usage);
    return 0;
  }
  if (positional[0] === 'compare') return compare(positional.slice(1), flags.has('informational'));
  if (positional[0] === 'report') return report(positional.slice(1), flags);
  // The child process of a memory measurement (memory-node.ts), started by this CLI itself.
  if (positional[0] === 'memory-probe') {
    await runMemoryProbe(positional[1]);
    return 0;
  }
  if (positional.length > 0 && positional[0] !== 'run')
    throw new Error(`unknown command "${positional[0]}"\n\n${usage}`);
  return reexecWithSwiftShader() ?? run(flags);
}

// exitCode rather than process.exit(): output still being written to a pipe is not cut off.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(`softmax-bench: ${e instanceof Error ? e.message : e}`);
    process.exitCode = 2;
  },
);
