// Profiles: measurements persisted across runs (a store) or carried to other machines (export/import).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSoftmax, jsonFileStore, STORE_KEY } from '@softmax/auto';

const dir = mkdtempSync(join(tmpdir(), 'softmax-profile-'));
const file = join(dir, 'softmax-profile.json');
const x = new Float32Array(4 * 512).map((_, i) => Math.cos(i));

// First run: learn, then flush the record to the store.
const first = createSoftmax({ backends: ['core', 'wasm'], store: jsonFileStore(file) });
for (let i = 0; i < 20; i++) await first.softmax(x, { cols: 512 });
const profile = first.exportProfile(); // the measured choices, keyed by this machine's fingerprint
await first.dispose(); // writes the record
assert.ok(JSON.parse(readFileSync(file, 'utf8'))[STORE_KEY]);

// Next run: the record is read back, so the bucket starts from the measured choice.
const second = createSoftmax({ backends: ['core', 'wasm'], store: jsonFileStore(file) });
await second.ready();
assert.ok(second.explain().profiles.some((p) => p.applied > 0));

// Or ship a profile with the application and use only measured data (no exploring).
const fixed = createSoftmax({ backends: ['core', 'wasm'], mode: 'profile-only' });
const report = fixed.importProfile(JSON.stringify(profile));
console.log('imported buckets:', report.applied, 'rejected:', report.rejected ?? 'none');

await second.dispose();
await fixed.dispose();
rmSync(dir, { recursive: true });
