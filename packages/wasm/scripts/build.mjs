#!/usr/bin/env node
// Builds the Rust kernel into two WebAssembly modules (SIMD128 and scalar), optimises them with
// wasm-opt, lays them out as wasm-pack would (pkg/), and writes the modules that the default
// entries embed (src/generated/*-wasm.js). tsup runs after this (see package.json).
//
// Toolchain route: rustup's wasm32-unknown-unknown target when installed; otherwise the offline
// Debian route (rustc-web, core rebuilt from rust-web-src, wasm-ld-22) with crate/debian-wasm32.toml.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { loadAbi } from './abi.mjs';
import { writePkg } from './pkg-files.mjs';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(pkgDir, '../..');
const crateName = 'softmax_wasm';
const target = 'wasm32-unknown-unknown';

/**
 * Build variants: file suffix and rustc flags. The scalar build targets the MVP so it loads
 * anywhere. The threads build is the SIMD build over a shared memory it imports (so that worker
 * threads can instantiate it on the same memory); `--shared-memory` needs every object, core
 * included, compiled with atomics, hence core is rebuilt for it on either route. Its stack pointer
 * is exported so that each worker can move its shadow stack to a block of its own.
 */
const VARIANTS = [
  { name: 'simd', file: `${crateName}_bg.wasm`, rustflags: ['-C', 'target-feature=+simd128'], opt: ['--enable-simd'] },
  { name: 'scalar', file: `${crateName}_scalar_bg.wasm`, rustflags: ['-C', 'target-cpu=mvp'], opt: [] },
  {
    name: 'threads',
    file: `${crateName}_threads_bg.wasm`,
    rustflags: [
      '-C',
      'target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals',
      ...['--shared-memory', '--import-memory', '--max-memory=4294967296', '--export=__stack_pointer'].flatMap(
        (arg) => ['-C', `link-arg=${arg}`],
      ),
    ],
    opt: ['--enable-simd', '--enable-threads', '--enable-bulk-memory', '--enable-mutable-globals'],
    buildStd: true,
  },
];

function run(cmd, args, env = {}, stderr = 'inherit') {
  return execFileSync(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', stderr], env: { ...process.env, ...env } })
    .toString()
    .trim();
}

function has(cmd, args) {
  try {
    run(cmd, args, {}, 'ignore');
    return true;
  } catch {
    return false;
  }
}

/** rustup's cargo when it has the wasm32 target, else Debian's rustc-web route. */
function chooseRoute() {
  const rustupBin = join(homedir(), '.cargo', 'bin');
  const rustup = existsSync(join(rustupBin, 'rustup')) ? join(rustupBin, 'rustup') : 'rustup';
  if (has(rustup, ['--version'])) {
    const installed = run(rustup, ['target', 'list', '--installed'], {}, 'ignore').split('\n');
    if (installed.includes(target)) {
      const cargo = existsSync(join(rustupBin, 'cargo')) ? join(rustupBin, 'cargo') : 'cargo';
      return { name: 'rustup', cargo, args: [], env: {} };
    }
  }
  if (!existsSync('/usr/bin/cargo') || !existsSync('/usr/bin/rustc')) {
    throw new Error(
      'no Rust toolchain for wasm32: install rustup target wasm32-unknown-unknown, or the Debian packages in scripts/setup/apt-packages.txt',
    );
  }
  return {
    name: 'debian',
    cargo: '/usr/bin/cargo',
    args: ['--config', join(pkgDir, 'crate', 'debian-wasm32.toml')],
    // /usr/bin/cargo would otherwise pick rustup's rustc from PATH, which cannot compile 1.96's core.
    env: { RUSTC: '/usr/bin/rustc', RUSTC_BOOTSTRAP: '1' },
  };
}

function buildVariant(route, variant) {
  const targetDir = join(repoRoot, 'target', `wasm-${variant.name}`);
  const rustflags = [
    ...variant.rustflags,
    // A small shadow stack: the kernels use almost none, and memory starts at 2 pages instead of 17.
    '-C',
    'link-arg=-zstack-size=65536',
    // No absolute paths in the output: the same bytes from any checkout location.
    `--remap-path-prefix=${repoRoot}=/softmax`,
    `--remap-path-prefix=${homedir()}=/home`,
  ];
  run(
    route.cargo,
    // The Debian route's config rebuilds core anyway; on rustup's route the threads build asks for
    // it (this needs the rust-src component).
    [
      'build',
      '--release',
      '--quiet',
      '--target',
      target,
      '--target-dir',
      targetDir,
      '-p',
      crateName,
      ...route.args,
      ...(variant.buildStd && route.name === 'rustup' ? ['-Z', 'build-std=core'] : []),
    ],
    {
      ...route.env,
      ...(variant.buildStd ? { RUSTC_BOOTSTRAP: '1' } : {}),
      CARGO_ENCODED_RUSTFLAGS: rustflags.join('\x1f'),
    },
  );
  return join(targetDir, target, 'release', `${crateName}.wasm`);
}

function optimize(input, output, flags) {
  // -O3 for speed; strip names, producers and feature sections so the bytes depend on the code only.
  run('wasm-opt', [
    input,
    '-O3',
    ...flags,
    '--strip-debug',
    '--strip-producers',
    '--strip-target-features',
    '-o',
    output,
  ]);
}

// The ABI table (src/abi.ts) is the loader's side; the crate's version must be the same one.
const abi = await loadAbi(pkgDir);
const crateAbi = Number(
  /pub const ABI_VERSION: u32 = (\d+);/.exec(readFileSync(join(pkgDir, 'crate/src/exports.rs'), 'utf8'))[1],
);
if (crateAbi !== abi.ABI_VERSION) {
  throw new Error(`crate/src/exports.rs has ABI_VERSION ${crateAbi}, src/abi.ts ${abi.ABI_VERSION}: bump both`);
}
const route = chooseRoute();
const outDir = join(pkgDir, 'pkg');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const hashes = {};
const bytes = {};
for (const variant of VARIANTS) {
  const raw = buildVariant(route, variant);
  const out = join(outDir, variant.file);
  optimize(raw, out, variant.opt);
  bytes[variant.name] = readFileSync(out);
  hashes[variant.name] = createHash('sha256').update(bytes[variant.name]).digest('hex');
}
writePkg(outDir, {
  crateName,
  abi,
  version: JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version,
});

const generated = join(pkgDir, 'src', 'generated');
mkdirSync(generated, { recursive: true });
rmSync(join(generated, 'wasm-base64.js'), { force: true });
/**
 * One module per build, so that a bundle carries only the builds its entry imports (the scalar one
 * is imported on demand). The SIMD and threads builds are deflated before base64: base64 hides the
 * byte patterns gzip finds in a .wasm (the 172 KB SIMD module is 39.4 KB gzip, but its base64
 * 63.6 KB gzip; deflated first, 39.9 KB), and every runtime with SIMD128 but one has
 * DecompressionStream (load.ts). The scalar build stays plain base64: it is for runtimes without
 * SIMD, which may lack DecompressionStream too.
 */
const GENERATED = [
  { file: 'simd-wasm.js', name: 'SIMD_WASM_DEFLATE', bytes: deflateSync(bytes.simd, { level: 9 }) },
  { file: 'threads-wasm.js', name: 'THREADS_WASM_DEFLATE', bytes: deflateSync(bytes.threads, { level: 9 }) },
  { file: 'scalar-wasm.js', name: 'SCALAR_WASM_BASE64', bytes: bytes.scalar },
];
for (const { file, name, bytes: content } of GENERATED) {
  writeFileSync(
    join(generated, file),
    `// Generated by scripts/build.mjs from pkg/*.wasm; not committed.\n` +
      // Laid out as biome formats it, so `biome check .` passes after a build too.
      `export const ${name} =\n  '${content.toString('base64')}';\n`,
  );
}
console.log(
  `wasm build (${route.name} route): ${VARIANTS.map((v) => `${v.name} ${bytes[v.name].length} B sha256 ${hashes[v.name].slice(0, 16)}`).join(', ')}`,
);
