//! The C ABI. Pointers are byte offsets into linear memory, lengths are element counts; the loader
//! has validated every argument (through @softmax/core) before calling. Bump ABI_VERSION whenever a
//! signature or meaning changes: the loader refuses a module whose `abi_version()` differs.

use crate::cross_entropy::{cross_entropy, Outputs, Params, Targets};
use crate::sample::{sample_rows, scratch_bytes, Out};
use crate::forward32::{exp_probe, forward_f32, log_sum_exp_rows, piece_exp_sum, piece_max, piece_scale};
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use crate::generic::{forward_row, log_softmax_backward_row, log_sum_exp_row, softmax_backward_row};
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::simd64::{forward_row_f64, log_softmax_backward_row, log_sum_exp_row_f64, softmax_backward_row};

/// A float64 row: SIMD128 (f64x2) in the SIMD build, scalar otherwise.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
unsafe fn forward_row_f64(x: *const f64, out: *mut f64, n: usize, temperature: f64, log: bool, zero_masked: bool) {
    forward_row::<f64>(x, out, n, temperature, log, zero_masked);
}

/// log Σ e^(x / T) of a float64 row: SIMD128 (f64x2) in the SIMD build, scalar otherwise.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
unsafe fn log_sum_exp_row_f64(x: *const f64, n: usize, temperature: f64) -> f64 {
    log_sum_exp_row::<f64>(x, n, temperature)
}

pub const ABI_VERSION: u32 = 5;

#[no_mangle]
pub extern "C" fn abi_version() -> u32 {
    ABI_VERSION
}

/// 1 in the SIMD128 build, 0 in the scalar build.
#[no_mangle]
pub extern "C" fn simd() -> u32 {
    cfg!(all(target_arch = "wasm32", target_feature = "simd128")) as u32
}

/// # Safety
/// Valid pointers for rows·cols float32s; `out` may equal `x`.
#[no_mangle]
pub unsafe extern "C" fn softmax_f32(x: *const f32, out: *mut f32, rows: usize, cols: usize, temperature: f64, zero_masked: u32) {
    forward_f32(x, out, rows, cols, temperature, false, zero_masked != 0);
}

/// # Safety
/// Valid pointers for rows·cols float32s; `out` may equal `x`.
#[no_mangle]
pub unsafe extern "C" fn log_softmax_f32(x: *const f32, out: *mut f32, rows: usize, cols: usize, temperature: f64, zero_masked: u32) {
    forward_f32(x, out, rows, cols, temperature, true, zero_masked != 0);
}

/// # Safety
/// Valid pointers for rows·cols float64s; `out` may equal `x`.
#[no_mangle]
pub unsafe extern "C" fn softmax_f64(x: *const f64, out: *mut f64, rows: usize, cols: usize, temperature: f64, zero_masked: u32) {
    for r in 0..rows {
        forward_row_f64(x.add(r * cols), out.add(r * cols), cols, temperature, false, zero_masked != 0);
    }
}

/// # Safety
/// Valid pointers for rows·cols float64s; `out` may equal `x`.
#[no_mangle]
pub unsafe extern "C" fn log_softmax_f64(x: *const f64, out: *mut f64, rows: usize, cols: usize, temperature: f64, zero_masked: u32) {
    for r in 0..rows {
        forward_row_f64(x.add(r * cols), out.add(r * cols), cols, temperature, true, zero_masked != 0);
    }
}

/// log Σ_j e^(x_j / T) of each row: one float32 per row.
///
/// # Safety
/// Valid pointers for rows·cols float32s (`x`) and rows float32s (`out`); `out` may equal `x` when
/// cols is 1.
#[no_mangle]
pub unsafe extern "C" fn log_sum_exp_f32(x: *const f32, out: *mut f32, rows: usize, cols: usize, temperature: f64) {
    log_sum_exp_rows(x, out, rows, cols, temperature);
}

/// log Σ_j e^(x_j / T) of each row: one float64 per row.
///
/// # Safety
/// Valid pointers for rows·cols float64s (`x`) and rows float64s (`out`); `out` may equal `x` when
/// cols is 1.
#[no_mangle]
pub unsafe extern "C" fn log_sum_exp_f64(x: *const f64, out: *mut f64, rows: usize, cols: usize, temperature: f64) {
    for r in 0..rows {
        *out.add(r) = log_sum_exp_row_f64(x.add(r * cols), cols, temperature);
    }
}

macro_rules! backward {
    ($name:ident, $t:ty, $row:ident) => {
        /// # Safety
        /// Valid pointers for rows·cols elements; `out` may equal `y` or `dy`.
        #[no_mangle]
        pub unsafe extern "C" fn $name(y: *const $t, dy: *const $t, out: *mut $t, rows: usize, cols: usize, temperature: f64) {
            for r in 0..rows {
                let o = r * cols;
                $row::<$t>(y.add(o), dy.add(o), out.add(o), cols, temperature);
            }
        }
    };
}

backward!(softmax_backward_f32, f32, softmax_backward_row);
backward!(softmax_backward_f64, f64, softmax_backward_row);
backward!(log_softmax_backward_f32, f32, log_softmax_backward_row);
backward!(log_softmax_backward_f64, f64, log_softmax_backward_row);

macro_rules! cross_entropy_exports {
    ($index:ident, $probs:ident, $t:ty) => {
        /// Cross-entropy against one class index per row (int32 or uint32; a row whose index is
        /// `ignore`, or outside [0, cols), is ignored): one float64 loss per row, k·d loss/d x into
        /// `grad` and the row's log-sum-exp into `lse` unless they are 0 (absent). The pointers come
        /// in the order of the op's operands (logits, targets; rowLoss, grad, lse), then the
        /// `weight` option's copy (cols float64s, or 0 for all 1).
        ///
        /// # Safety
        /// Valid pointers for rows·cols elements (`x`, `grad`, which may be `x`), rows (`targets`,
        /// `loss`, `lse`) and cols float64s (`weight`).
        #[no_mangle]
        pub unsafe extern "C" fn $index(
            x: *const $t,
            targets: *const u32,
            loss: *mut f64,
            grad: *mut $t,
            lse: *mut $t,
            weight: *const f64,
            rows: usize,
            cols: usize,
            temperature: f64,
            softcap: f64,
            smoothing: f64,
            z_loss: f64,
            scale: f64,
            ignore: u32,
        ) {
            let p = Params { temperature, softcap, smoothing, z_loss, scale };
            cross_entropy(x, Targets::Index { t: targets, ignore }, weight, Outputs { loss, lse, grad }, rows, cols, &p);
        }

        /// Cross-entropy against rows × cols target probabilities (of the logits' type), as above.
        ///
        /// # Safety
        /// As above, `targets` valid for rows·cols elements.
        #[no_mangle]
        pub unsafe extern "C" fn $probs(
            x: *const $t,
            targets: *const $t,
            loss: *mut f64,
            grad: *mut $t,
            lse: *mut $t,
            weight: *const f64,
            rows: usize,
            cols: usize,
            temperature: f64,
            softcap: f64,
            smoothing: f64,
            z_loss: f64,
            scale: f64,
        ) {
            let p = Params { temperature, softcap, smoothing, z_loss, scale };
            cross_entropy(x, Targets::Probs(targets), weight, Outputs { loss, lse, grad }, rows, cols, &p);
        }
    };
}

cross_entropy_exports!(cross_entropy_index_f32, cross_entropy_probs_f32, f32);
cross_entropy_exports!(cross_entropy_index_f64, cross_entropy_probs_f64, f64);

/// Max of a piece of a float32 row (NaN if it holds one): pass 1 of a row split across threads.
///
/// # Safety
/// Valid pointer for n float32s.
#[no_mangle]
pub unsafe extern "C" fn piece_max_f32(x: *const f32, n: usize) -> f32 {
    piece_max(x, n)
}

/// Pass 2 of a split row: out = exp((x - s)/T) for the row's max, returning the piece's sum (NaN,
/// nothing written, when the row must run whole).
///
/// # Safety
/// Valid pointers for n float32s; `out` may equal `x`.
#[no_mangle]
pub unsafe extern "C" fn piece_exp_sum_f32(x: *const f32, out: *mut f32, n: usize, max: f32, temperature: f64) -> f64 {
    piece_exp_sum(x, out, n, max, temperature)
}

/// Pass 3 of a split row: out *= inv.
///
/// # Safety
/// Valid pointer for n float32s.
#[no_mangle]
pub unsafe extern "C" fn piece_scale_f32(out: *mut f32, n: usize, inv: f32) {
    piece_scale(out, n, inv);
}

/// Test probe: out = exp((x - max)/T) through this build's exp pass (SIMD lanes or scalar).
///
/// # Safety
/// Valid pointers for n float32s.
#[no_mangle]
pub unsafe extern "C" fn probe_exp_f32(x: *const f32, out: *mut f32, n: usize, max: f32, temperature: f64) {
    exp_probe(x, out, n, max, temperature);
}

macro_rules! sample_exports {
    ($name:ident, $t:ty) => {
        /// One token per row (SAMPLE_NO_TOKEN for a row without one) and, where not null, its
        /// log-probability and the n = `top_n` most probable ids with theirs (rows × n). The pointers
        /// come in the op's order (logits; tokens, logprobs, topIds, topLogprobs), then the
        /// settings table (sample::TABLE float64s per row), the pairs table (history (id, count)
        /// and bias (id, value) float64 pairs, indexed by the table), the mask (`mask_words` u32
        /// per row; 0 when absent) and the scratch block (see sample_scratch_bytes).
        ///
        /// # Safety
        /// Valid pointers for those shapes; the scratch block's header initialised.
        #[no_mangle]
        pub unsafe extern "C" fn $name(
            x: *const $t,
            tokens: *mut i32,
            logprobs: *mut f32,
            top_ids: *mut i32,
            top_lps: *mut f32,
            table: *const f64,
            pairs: *const f64,
            mask: *const u32,
            scratch: *mut u8,
            rows: usize,
            cols: usize,
            top_n: usize,
            mask_words: usize,
        ) {
            let out = Out { token: tokens, logprob: logprobs, top_ids, top_lps, top_n };
            sample_rows::<$t>(x, out, table, pairs, mask, mask_words, scratch, rows, cols);
        }
    };
}

sample_exports!(sample_f32, f32);
sample_exports!(sample_f64, f64);

/// Bytes of one scratch slot of `sample` for rows of `cols` elements of `bytes` bytes (4 or 8);
/// a scratch block is sample::HEADER bytes then one slot per thread.
#[no_mangle]
pub extern "C" fn sample_scratch_bytes(cols: usize, bytes: usize) -> usize {
    scratch_bytes(cols, bytes)
}
