/**
 * The C ABI of the Rust kernel (crate/src/exports.rs), written once: the loader's `KernelExports`
 * type, the .d.ts of pkg/'s raw loader (scripts/pkg-files.mjs reads this file) and the tests' kernel
 * stand-ins are derived from the table below, and test/abi.test.ts checks it against every
 * compiled build's exports and arities. Pointers are byte offsets into `memory`, lengths are element
 * counts. ABI_VERSION must equal the module's `abi_version()`; bump both on any change of a
 * signature or meaning.
 *
 * This file imports nothing at run time: the build loads it without the package's other modules.
 *
 * @module @softmax/wasm/abi
 */
/**
 * The version of the kernel's C ABI this loader speaks: a module whose `abi_version()` differs is
 * refused with `BACKEND_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * import { ABI_VERSION, type KernelExports } from '@softmax/wasm/abi';
 *
 * const { instance } = await WebAssembly.instantiate(bytes);
 * const kernel = instance.exports as unknown as KernelExports;
 * if (kernel.abi_version() !== ABI_VERSION) throw new Error('a .wasm file of another release');
 * ```
 */
export const ABI_VERSION = 5;

/** One exported function: its parameters by name (every one a wasm number) and whether it returns one. */
export interface FunctionDecl {
  /** Parameter names, in order. */
  readonly params: readonly string[];
  /** Whether it returns a number. */
  readonly returns: 'number' | 'void';
}

const forward = ['x', 'out', 'rows', 'cols', 'temperature', 'zeroMasked'] as const;
const backward = ['y', 'dy', 'out', 'rows', 'cols', 'temperature'] as const;
/** `out`: one element per row. */
const rowStat = ['x', 'out', 'rows', 'cols', 'temperature'] as const;
/**
 * Cross-entropy, its operands in the op's order (logits, targets; rowLoss, grad, lse) then the
 * `weight` option: `loss` one float64 per row; `grad` (rows × cols, possibly `x`), `lse` (one per
 * row) and `weight` (cols float64s) are 0 when absent. The index kernels also take `ignore`.
 */
const crossEntropy = [
  'x',
  'targets',
  'loss',
  'grad',
  'lse',
  'weight',
  'rows',
  'cols',
  'temperature',
  'softcap',
  'smoothing',
  'zLoss',
  'scale',
] as const;
const crossEntropyIndex = [...crossEntropy, 'ignore'] as const;

/**
 * sample, its operands in the op's order (logits; tokens, logprobs, topIds, topLogprobs: 0 when
 * not asked), then the settings table, the pairs table, the masks (0: none) and the scratch block.
 */
const sample = [
  'x',
  'tokens',
  'logprobs',
  'topIds',
  'topLogprobs',
  'table',
  'pairs',
  'mask',
  'scratch',
  'rows',
  'cols',
  'topN',
  'maskWords',
] as const;

/**
 * Every function the kernel exports, in every build.
 *
 * @example
 * ```ts
 * import { KERNEL_FUNCTIONS } from '@softmax/wasm/abi';
 *
 * KERNEL_FUNCTIONS.softmax_f32.params; // ['x', 'out', 'rows', 'cols', 'temperature', 'zeroMasked']
 * for (const [name, decl] of Object.entries(KERNEL_FUNCTIONS)) console.log(name, decl.params.length);
 * ```
 */
export const KERNEL_FUNCTIONS = {
  abi_version: { params: [], returns: 'number' },
  /** 1 in the SIMD128 builds, 0 in the scalar build. */
  simd: { params: [], returns: 'number' },
  softmax_f32: { params: forward, returns: 'void' },
  log_softmax_f32: { params: forward, returns: 'void' },
  softmax_f64: { params: forward, returns: 'void' },
  log_softmax_f64: { params: forward, returns: 'void' },
  softmax_backward_f32: { params: backward, returns: 'void' },
  log_softmax_backward_f32: { params: backward, returns: 'void' },
  softmax_backward_f64: { params: backward, returns: 'void' },
  log_softmax_backward_f64: { params: backward, returns: 'void' },
  log_sum_exp_f32: { params: rowStat, returns: 'void' },
  log_sum_exp_f64: { params: rowStat, returns: 'void' },
  cross_entropy_index_f32: { params: crossEntropyIndex, returns: 'void' },
  cross_entropy_probs_f32: { params: crossEntropy, returns: 'void' },
  cross_entropy_index_f64: { params: crossEntropyIndex, returns: 'void' },
  cross_entropy_probs_f64: { params: crossEntropy, returns: 'void' },
  sample_f32: { params: sample, returns: 'void' },
  sample_f64: { params: sample, returns: 'void' },
  /** Bytes of one thread's scratch slot of sample for rows of `cols` elements of `bytes` bytes. */
  sample_scratch_bytes: { params: ['cols', 'bytes'], returns: 'number' },
  /** The passes of one float32 softmax row split across threads (see threads/calls.ts). */
  piece_max_f32: { params: ['x', 'n'], returns: 'number' },
  piece_exp_sum_f32: { params: ['x', 'out', 'n', 'max', 'temperature'], returns: 'number' },
  piece_scale_f32: { params: ['out', 'n', 'inv'], returns: 'void' },
  /** Test probe: this build's float32 exp pass. */
  probe_exp_f32: { params: ['x', 'out', 'n', 'max', 'temperature'], returns: 'void' },
} as const satisfies Record<string, FunctionDecl>;

/** The name of a function the kernel exports. */
export type KernelName = keyof typeof KERNEL_FUNCTIONS;

/**
 * The exports that are not functions, by kind. The threads build imports its memory (`env.memory`,
 * shared) instead of exporting it, and also exports THREADS_GLOBALS.
 *
 * @example
 * ```ts
 * import { KERNEL_GLOBALS } from '@softmax/wasm/abi';
 *
 * const kinds = WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]); // compare with KERNEL_GLOBALS
 * ```
 */
export const KERNEL_GLOBALS = {
  memory: 'memory',
  /** The first byte above the kernel's data and stack: the loader's heap starts here. */
  __heap_base: 'global',
} as const;

/**
 * The threads build's own exports: each worker moves the stack pointer to a stack of its own.
 *
 * @example
 * ```ts
 * import { THREADS_GLOBALS } from '@softmax/wasm/abi';
 *
 * Object.keys(THREADS_GLOBALS); // ['__stack_pointer']: each worker moves it to a stack of its own
 * ```
 */
export const THREADS_GLOBALS = { __stack_pointer: 'global' } as const;

/** A number for each parameter name (mapped over a type parameter, so a tuple stays a tuple). */
type Numbers<P extends readonly string[]> = { -readonly [I in keyof P]: number };

type Signature<D extends FunctionDecl> = (
  ...args: Numbers<D['params']>
) => D['returns'] extends 'number' ? number : void;

/** Every exported function, typed from KERNEL_FUNCTIONS' parameters. */
export type KernelFunctions = { readonly [K in KernelName]: Signature<(typeof KERNEL_FUNCTIONS)[K]> };

/** A kernel module's exports: its functions, its memory and where the heap starts. */
export interface KernelExports extends KernelFunctions {
  /** Linear memory (imported instead in the threads build). */
  readonly memory: WebAssembly.Memory;
  /** The first byte above the kernel's data and stack. */
  readonly __heap_base: WebAssembly.Global;
}
