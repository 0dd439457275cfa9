import { type Op, parseShapes, type Suite, suites } from '@softmax/bench-scenarios';
import { autoSection } from '../src/auto-report.js';
import { chartSvg } from '../src/chart.js';
import { candidateLines, scenarioHeader, scenarioNumeric, scenarioRows, scenarioTitle } from '../src/format.js';
import { browserCandidates, browserContext, describeBrowser } from '../src/registry-browser.js';
import type { CandidateInfo, RunResult, ScenarioResult } from '../src/results.js';
import { runSuite } from '../src/runner.js';

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
  const pairs = [...new Set(scenarios.map((s) => `${s.op}|${s.dtype}`))].map((k) => k.split('|'));
  $('charts').innerHTML = pairs
    .map(([op, dtype]) => chartSvg(scenarios, candidates, op as Op, dtype as 'float32'))
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
  return { ...base, ops: [$<HTMLSelectElement>('op').value as Op], shapes: shapes ? parseShapes(shapes) : base.shapes };
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
