/**
 * The C ABI of the Rust kernel (crate/src/exports.rs). Pointers are byte offsets into `memory`,
 * lengths are element counts. ABI_VERSION must equal the module's `abi_version()`.
 */
export const ABI_VERSION = 2;

type Forward = (x: number, out: number, rows: number, cols: number, temperature: number, zeroMasked: number) => void;
type Backward = (y: number, dy: number, out: number, rows: number, cols: number, temperature: number) => void;

export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  readonly __heap_base: WebAssembly.Global;
  abi_version(): number;
  simd(): number;
  softmax_f32: Forward;
  log_softmax_f32: Forward;
  softmax_f64: Forward;
  log_softmax_f64: Forward;
  softmax_backward_f32: Backward;
  log_softmax_backward_f32: Backward;
  softmax_backward_f64: Backward;
  log_softmax_backward_f64: Backward;
  piece_max_f32(x: number, n: number): number;
  piece_exp_sum_f32(x: number, out: number, n: number, max: number, temperature: number): number;
  piece_scale_f32(out: number, n: number, inv: number): void;
  probe_exp_f32(x: number, out: number, n: number, max: number, temperature: number): void;
}
