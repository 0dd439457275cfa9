import { Worker } from 'node:worker_threads';
import { beforeEach } from 'vitest';

// A test whose main thread blocks inside a native GPU call (a driver deadlock) cannot be stopped by
// vitest's timeouts, which need the event loop: it would hold the whole run until CI's time limit.
// This thread notices a main thread that has not beaten for LIMIT_S seconds, prints which test it
// was in (and the native stacks, when gdb is installed), then ends the process, so that the file
// fails at once with the reason. No test blocks its event loop for more than a second or two.
const LIMIT_S = Number(process.env.SOFTMAX_WATCHDOG_S ?? 120);

const beat = new Int32Array(new SharedArrayBuffer(4));
const label = new Uint8Array(new SharedArrayBuffer(1024));
const now = () => Math.floor(Date.now() / 1000);
Atomics.store(beat, 0, now());
setInterval(() => Atomics.store(beat, 0, now()), 1000).unref();

beforeEach((context) => {
  const name = new TextEncoder().encode(`${context.task.file?.name ?? ''} > ${context.task.name}`);
  label.fill(0);
  label.set(name.subarray(0, label.length - 1));
});

const WATCH = `
const { workerData: { beat, label, limit, pid } } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const idle = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  Atomics.wait(idle, 0, 0, 5000);
  const stalled = Math.floor(Date.now() / 1000) - Atomics.load(beat, 0);
  if (stalled < limit) continue;
  const name = Buffer.from(label).toString('utf8').replace(/\\0+$/, '');
  writeSync(2, '\\nwatchdog: the main thread has been blocked for ' + stalled + ' s in: ' + name + '\\n');
  const gdb = spawnSync('gdb', ['-p', String(pid), '-batch', '-ex', 'thread apply all bt 12'], { encoding: 'utf8', timeout: 60000 });
  writeSync(2, gdb.error ? 'watchdog: no native stacks (gdb: ' + gdb.error.message + ')\\n' : gdb.stdout + '\\n');
  process.kill(pid, 'SIGKILL');
}
`;

new Worker(WATCH, { eval: true, workerData: { beat, label, limit: LIMIT_S, pid: process.pid } }).unref();
