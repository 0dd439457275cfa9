import { overriding, parseShapes, type Suite, suites } from '@softmax/bench-scenarios';
import { autoSection } from '../src/auto-report.js';
import { chartKeys, chartSvg } from '../src/chart.js';
import { crossEntropySection, ratioChartSvg } from '../src/cross-entropy-report.js';
import { candidateLines, scenarioHeader, scenarioNumeric, scenarioRows, scenarioTitle } from '../src/format.js';
import { browserCandidates, browserContext, describeBrowser } from '../src/registry-browser.js';
import type { CandidateInfo, RunResult, ScenarioResult } from '../src/results.js';
import { runSuite } from '../src/runner.js';
import { sampleSection } from '../src/sample-report.js';

/** State the end-to-end test reads. */
declare global {
  interface Window {
    __bench?: { done: boolean; result?: RunResult; error?: string };
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function renderTable(s: ScenarioResult, candidates: CandidateInfo[]): HTMLTableElement {
  const table = document.createElement('table');
  table.createCaption().textContent = scenarioTitle(s);
  const head = table.createTHead().insertRow();
  for (const h of scenarioHeader(s)) head.appendChild(document.createElement('th')).textContent = h;
  const body = table.createTBody();
  const rows = scenarioRows(s, new Map(candidates.map((c) => [c.id, c.label])));
  for (const r of rows) {
    const tr = body.insertRow();
    if (r[8].startsWith('WRONG') || r[8].startsWith('error')) tr.className = 'wrong';
    r.forEach((cell, i) => {
      const td = tr.insertCell();
      td.textContent = cell;
      if (scenarioNumeric(i)) td.className = 'num';
    });
  }
  return table;
}

function renderCharts(scenarios: ScenarioResult[], candidates: CandidateInfo[]) {
  $('charts').innerHTML = chartKeys(scenarios)
    .map((k) => chartSvg(scenarios, candidates, k.op, k.dtype, k.variant))
    .join('\n');
}

async function run(suite: Suite) {
  window.__bench = { done: false };
  const status = $('status');
  const button = $<HTMLButtonElement>('run');
  button.disabled = true;
  $('candidates').innerHTML = '';
  $('tables').innerHTML = '';
  $('auto-report').textContent = '';
  $('ce-report').textContent = '';
  $('ce-chart').innerHTML = '';
  $('sample-report').textContent = '';
  const done: ScenarioResult[] = [];
  const infos: CandidateInfo[] = [];
  try {
    status.textContent = 'loading candidates…';
    const { context, adapter } = await browserContext();
    const result = await runSuite({
      suite,
      candidates: browserCandidates,
      context,
      machine: describeBrowser(adapter),
      onEvent(e) {
        if (e.type === 'candidate') {
          infos.push(e.info);
          const li = $('candidates').appendChild(document.createElement('li'));
          li.textContent = candidateLines([e.info])[0];
          li.dataset.id = e.info.id;
          if (!e.info.available) li.className = 'unavailable';
        } else if (e.type === 'scenario-start') {
          status.textContent = `[${e.index + 1}/${e.total}] ${scenarioTitle(e.scenario)}…`;
        } else if (e.type === 'scenario-done') {
          done.push(e.scenario);
          $('tables').appendChild(renderTable(e.scenario, infos));
          renderCharts(done, infos);
        }
      },
    });
    const blob = new Blob([JSON.stringify(result, null, 1)], { type: 'application/json' });
    const link = $<HTMLAnchorElement>('download');
    link.href = URL.createObjectURL(blob);
    link.hidden = false;
    status.textContent = `done: ${result.scenarios.length} scenarios, ${((Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000).toFixed(1)} s`;
    // crossEntropy's speed-ups against tfjs and the unfused composition, as in the CLI's report.
    $('ce-report').textContent = crossEntropySection(result, false).join('\n') || 'crossEntropy did not run.';
    $('ce-chart').innerHTML = ratioChartSvg(result) ?? '';
    // sample's goals (wasm vs the JS full sort, webgpu vs readback, greedy vs one max pass), as in the CLI's report.
    $('sample-report').textContent = sampleSection(result, false).join('\n') || 'sample did not run.';
    // auto's regret per shape, learning cost and explain() table, as in the CLI's report.
    $('auto-report').textContent = autoSection(result, false).join('\n') || '@softmax/auto did not run.';
    window.__bench = { done: true, result };
  } catch (e) {
    status.textContent = `failed: ${(e as Error).message}`;
    window.__bench = { done: true, error: String((e as Error).stack ?? e) };
  } finally {
    button.disabled = false;
  }
}

function suiteFromForm(): Suite {
  const base = suites[$<HTMLSelectElement>('suite').value as 'quick' | 'full'];
  const shapes = $<HTMLInputElement>('shapes').value.trim();
  const op = $<HTMLSelectElement>('op').value as Suite['ops'][number] | '';
  // '' (the default): the suite's ops, softmax and crossEntropy at its own shapes; a chosen op runs alone.
  const ops = op === '' ? base.ops : [op];
  return shapes ? { ...overriding(base, { shapes: parseShapes(shapes) }), ops } : { ...base, ops };
}

$('controls').addEventListener('submit', (e) => {
  e.preventDefault();
  void run(suiteFromForm());
});

// ?run=quick (or full) starts at once: how the end-to-end test drives the page.
const auto = new URLSearchParams(location.search).get('run');
if (auto === 'quick' || auto === 'full') {
  $<HTMLSelectElement>('suite').value = auto;
  void run(suiteFromForm());
}
