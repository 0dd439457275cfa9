#!/usr/bin/env node
// Runs the kernel's native Rust tests (the exhaustive float32 exp sweep among them) in release mode
// with the host toolchain: rustup's cargo when present, else Debian's cargo with Debian's rustc.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const rustup = join(homedir(), '.cargo', 'bin');
let cargo = 'cargo';
const env = { ...process.env };
if (existsSync(join(rustup, 'cargo'))) {
  cargo = join(rustup, 'cargo');
} else if (existsSync('/usr/bin/cargo') && existsSync('/usr/bin/rustc')) {
  cargo = '/usr/bin/cargo';
  env.RUSTC = '/usr/bin/rustc'; // else /usr/bin/cargo may pick another rustc from PATH
}
execFileSync(cargo, ['test', '--release', '--offline', '-p', 'softmax_wasm', '--', '--nocapture'], {
  cwd: repoRoot,
  env,
  stdio: 'inherit',
});
