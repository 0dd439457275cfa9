//! The kernels that compute in float64, in SIMD128 (f64x2): float64 softmax / log-softmax, and the
//! gradients of both types (float32 rows are loaded as f32x4, widened to float64, and rounded once
//! when stored, exactly as the scalar kernels in generic.rs do). Each step handles 8 elements as
//! four f64x2 vectors with independent accumulators; sums close a 64-element block into a
//! compensated `BlockSum`, as `sum_f64` does.
//!
//! exp is `exp64` lane by lane: the same operations in the same order (wasm has no FMA), so lanes
//! in the fast range equal `exp64` bit for bit. Lanes outside it (|t| > 708: subnormal or zero
//! results, overflow, ±∞, NaN) send their group of 8 to the scalar `exp64`.

use core::arch::wasm32::*;

use crate::exp64::{exp64, C, LN2_HI, LN2_LO, LOG2E, MAGIC};
use crate::generic::{self, reciprocal_ok, scaled_difference, special_log_sum_exp, special_row, weighted, Elem, Factors};
use crate::log64::ln_sum;
use crate::sum::BlockSum;

/// |t| ≤ FAST_BOUND keeps n = round(t·log2e) in [-1021, 1022], so p·2^n (p in [0.7, 1.42]) is a
/// normal number and adding n to p's exponent bits is exact, as exp64's two-factor product is there.
const FAST_BOUND: f64 = 708.0;

static CONSTS: [f64; 17] = [
    C[0], C[1], C[2], C[3], C[4], C[5], C[6], C[7], C[8], C[9], C[10], C[11], LOG2E, MAGIC, LN2_HI, LN2_LO, FAST_BOUND,
];

/// exp64's constants, splatted once per row. Read through a volatile load so that LLVM keeps them
/// in locals instead of rematerialising `v128.const` at each use (V8 expands each into several
/// instructions), as simd32 does.
pub struct V64 {
    c: [v128; 12],
    log2e: v128,
    magic: v128,
    ln2_hi: v128,
    ln2_lo: v128,
    bound: v128,
    one: v128,
}

impl V64 {
    #[inline(always)]
    pub fn new() -> V64 {
        // SAFETY: reading a static.
        let k = unsafe { core::ptr::read_volatile(&CONSTS) };
        let mut c = [f64x2_splat(0.0); 12];
        for i in 0..12 {
            c[i] = f64x2_splat(k[i]);
        }
        V64 {
            c,
            log2e: f64x2_splat(k[12]),
            magic: f64x2_splat(k[13]),
            ln2_hi: f64x2_splat(k[14]),
            ln2_lo: f64x2_splat(k[15]),
            bound: f64x2_splat(k[16]),
            one: f64x2_splat(1.0),
        }
    }
}

/// exp64 on both lanes, valid where |t| ≤ FAST_BOUND (see `fits`).
#[inline(always)]
fn exp_fast(t: v128, v: &V64) -> v128 {
    let nf = f64x2_add(f64x2_mul(t, v.log2e), v.magic);
    let n = f64x2_sub(nf, v.magic);
    let r = f64x2_sub(f64x2_sub(t, f64x2_mul(n, v.ln2_hi)), f64x2_mul(n, v.ln2_lo));
    let mut q = v.c[11];
    let mut i = 11;
    while i > 0 {
        i -= 1;
        q = f64x2_add(f64x2_mul(q, r), v.c[i]);
    }
    let p = f64x2_add(v.one, f64x2_mul(r, f64x2_add(v.one, f64x2_mul(r, q))));
    // nf's low mantissa bits hold n (magic-number rounding); shifting by 52 leaves n·2^52 mod 2^64,
    // which adds n to p's exponent.
    i64x2_add(p, i64x2_shl(nf, 52))
}

/// All-ones lanes where |t| ≤ FAST_BOUND (false for NaN).
#[inline(always)]
fn fits(t: v128, v: &V64) -> v128 {
    f64x2_le(f64x2_abs(t), v.bound)
}

#[cold]
#[inline(never)]
fn exp_slow(t: v128) -> v128 {
    f64x2(exp64(f64x2_extract_lane::<0>(t)), exp64(f64x2_extract_lane::<1>(t)))
}

/// exp64 of four vectors: the fast path when every lane fits, else exp64 per lane.
#[inline(always)]
fn exp4(t: [v128; 4], v: &V64) -> [v128; 4] {
    let ok = v128_and(v128_and(fits(t[0], v), fits(t[1], v)), v128_and(fits(t[2], v), fits(t[3], v)));
    if i64x2_all_true(ok) {
        [exp_fast(t[0], v), exp_fast(t[1], v), exp_fast(t[2], v), exp_fast(t[3], v)]
    } else {
        [exp_slow(t[0]), exp_slow(t[1]), exp_slow(t[2]), exp_slow(t[3])]
    }
}

#[inline(always)]
fn lanes(v: v128) -> f64 {
    f64x2_extract_lane::<0>(v) + f64x2_extract_lane::<1>(v)
}

#[inline(always)]
fn add4(a: &mut [v128; 4], e: [v128; 4]) {
    for i in 0..4 {
        a[i] = f64x2_add(a[i], e[i]);
    }
}

#[inline(always)]
fn block_total(a: [v128; 4]) -> f64 {
    lanes(f64x2_add(f64x2_add(a[0], a[1]), f64x2_add(a[2], a[3])))
}

/// Eight stored elements as four f64x2 vectors, and back (float32 is widened exactly and rounded
/// once when stored).
pub trait Lanes: Elem {
    /// # Safety
    /// `p` valid for 8 elements.
    unsafe fn load8(p: *const Self) -> [v128; 4];
    /// # Safety
    /// `p` valid for 8 elements.
    unsafe fn store8(p: *mut Self, v: [v128; 4]);
}

impl Lanes for f64 {
    #[inline(always)]
    unsafe fn load8(p: *const f64) -> [v128; 4] {
        let q = p as *const v128;
        [v128_load(q), v128_load(q.add(1)), v128_load(q.add(2)), v128_load(q.add(3))]
    }
    #[inline(always)]
    unsafe fn store8(p: *mut f64, v: [v128; 4]) {
        let q = p as *mut v128;
        v128_store(q, v[0]);
        v128_store(q.add(1), v[1]);
        v128_store(q.add(2), v[2]);
        v128_store(q.add(3), v[3]);
    }
}

impl Lanes for f32 {
    #[inline(always)]
    unsafe fn load8(p: *const f32) -> [v128; 4] {
        let q = p as *const v128;
        let (a, b) = (v128_load(q), v128_load(q.add(1)));
        [
            f64x2_promote_low_f32x4(a),
            f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(a, a)),
            f64x2_promote_low_f32x4(b),
            f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(b, b)),
        ]
    }
    #[inline(always)]
    unsafe fn store8(p: *mut f32, v: [v128; 4]) {
        let q = p as *mut v128;
        let d = |lo: v128, hi: v128| i32x4_shuffle::<0, 1, 4, 5>(f32x4_demote_f64x2_zero(lo), f32x4_demote_f64x2_zero(hi));
        v128_store(q, d(v[0], v[1]));
        v128_store(q.add(1), d(v[2], v[3]));
    }
}

/// Row max ignoring NaN (pmax keeps its first operand when the second is NaN), and a NaN flag.
///
/// # Safety
/// `x` valid for `n` elements.
pub unsafe fn stats(x: *const f64, n: usize) -> (f64, bool) {
    let ninf = f64x2_splat(f64::NEG_INFINITY);
    let mut m = [ninf; 4];
    let (mut f0, mut f1) = (i64x2_splat(0), i64x2_splat(0));
    let mut j = 0;
    while j + 8 <= n {
        let v = f64::load8(x.add(j));
        for i in 0..4 {
            m[i] = f64x2_pmax(m[i], v[i]);
        }
        f0 = v128_or(f0, v128_or(f64x2_ne(v[0], v[0]), f64x2_ne(v[1], v[1])));
        f1 = v128_or(f1, v128_or(f64x2_ne(v[2], v[2]), f64x2_ne(v[3], v[3])));
        j += 8;
    }
    let mv = f64x2_pmax(f64x2_pmax(m[0], m[1]), f64x2_pmax(m[2], m[3]));
    let (a, b) = (f64x2_extract_lane::<0>(mv), f64x2_extract_lane::<1>(mv));
    let mut max = if a < b { b } else { a };
    let mut has_nan = v128_any_true(v128_or(f0, f1));
    while j < n {
        let v = *x.add(j);
        has_nan |= v != v;
        max = if max < v { v } else { max };
        j += 1;
    }
    (max, has_nan)
}

/// Forward softmax / log-softmax of one float64 row: the operations of generic::forward_row.
///
/// # Safety
/// `x` and `out` valid for `n` elements (they may be the same memory).
pub unsafe fn forward_row_f64(x: *const f64, out: *mut f64, n: usize, temperature: f64, log: bool, zero_masked: bool) {
    if !reciprocal_ok(temperature) {
        // 1/T is subnormal or infinite: the scalar row divides instead.
        return generic::forward_row::<f64>(x, out, n, temperature, log, zero_masked);
    }
    let (max, has_nan) = stats(x, n);
    if special_row::<f64>(x, out, n, max, has_nan, log, zero_masked) {
        return;
    }
    let inv_t = 1.0 / temperature;
    let v = V64::new();
    let (vmax, vit) = (f64x2_splat(max), f64x2_splat(inv_t));
    let shifted = |x: [v128; 4]| x.map(|xi| f64x2_mul(f64x2_sub(xi, vmax), vit));
    if log {
        let log_sum = log_sum(x, n, max, inv_t, &v);
        log_out(x, out, n, max, inv_t, log_sum);
    } else {
        let zero = f64x2_splat(0.0);
        let mut total = BlockSum::default();
        let mut j = 0;
        while j + 64 <= n {
            let mut a = [zero; 4];
            for _ in 0..8 {
                let e = exp4(shifted(f64::load8(x.add(j))), &v);
                f64::store8(out.add(j), e);
                add4(&mut a, e);
                j += 8;
            }
            total.add(block_total(a));
        }
        let mut tail = 0.0;
        while j < n {
            let e = exp64((*x.add(j) - max) * inv_t);
            *out.add(j) = e;
            tail += e;
            j += 1;
        }
        total.add(tail);
        scale(out, n, 1.0 / total.total());
    }
}

/// ln Σ e^((x − max)/T) of a float64 row whose max is finite: the loop of generic.rs's
/// log_sum_by, with the max's own 1 kept out of the rest (so that ln1p keeps a dominant entry's
/// accuracy). Not inlined: it runs once a row, and both ops share one copy.
#[inline(never)]
unsafe fn log_sum(x: *const f64, n: usize, max: f64, inv_t: f64, v: &V64) -> f64 {
    let (rest, at_max) = exp_rest::<false>(x, core::ptr::null_mut(), n, max, inv_t, v);
    ln_sum(at_max, rest)
}

/// Σ e^((x − max)·(1/T)) over the entries below the max (a finite one), and the count of entries
/// equal to it. With STORE, also out = e^((x − max)·(1/T)) for every entry (1 at the max), which
/// cross-entropy's gradient pass scales.
///
/// # Safety
/// `x` valid for `n` elements; with STORE, `out` too (it may equal `x`).
#[inline(always)]
pub unsafe fn exp_rest<const STORE: bool>(x: *const f64, out: *mut f64, n: usize, max: f64, inv_t: f64, v: &V64) -> (f64, usize) {
    let (vmax, vit) = (f64x2_splat(max), f64x2_splat(inv_t));
    let zero = f64x2_splat(0.0);
    let mut total = BlockSum::default();
    let mut count = i64x2_splat(0);
    let mut j = 0;
    while j + 64 <= n {
        let mut a = [zero; 4];
        for _ in 0..8 {
            let xv = f64::load8(x.add(j));
            let e = exp4(xv.map(|xi| f64x2_mul(f64x2_sub(xi, vmax), vit)), v);
            if STORE {
                f64::store8(out.add(j), e);
            }
            let q = xv.map(|xi| f64x2_eq(xi, vmax));
            add4(&mut a, [0, 1, 2, 3].map(|i| v128_andnot(e[i], q[i])));
            // A true lane is -1: subtracting the masks counts them.
            count = i64x2_sub(count, i64x2_add(i64x2_add(q[0], q[1]), i64x2_add(q[2], q[3])));
            j += 8;
        }
        total.add(block_total(a));
    }
    let mut at_max = (i64x2_extract_lane::<0>(count) + i64x2_extract_lane::<1>(count)) as usize;
    let mut tail = 0.0;
    while j < n {
        let xv = *x.add(j);
        if xv == max {
            if STORE {
                *out.add(j) = 1.0;
            }
            at_max += 1;
        } else if STORE {
            let e = exp64((xv - max) * inv_t);
            *out.add(j) = e;
            tail += e;
        } else {
            tail += exp64((xv - max) * inv_t);
        }
        j += 1;
    }
    total.add(tail);
    (total.total(), at_max)
}

/// log Σ_j e^(x_j / T) of one float64 row: the operations of generic::log_sum_exp_row.
///
/// # Safety
/// `x` valid for `n` elements.
pub unsafe fn log_sum_exp_row_f64(x: *const f64, n: usize, temperature: f64) -> f64 {
    if !reciprocal_ok(temperature) {
        // 1/T is subnormal or infinite: the scalar row divides instead.
        return generic::log_sum_exp_row::<f64>(x, n, temperature);
    }
    let (max, has_nan) = stats(x, n);
    if let Some(special) = special_log_sum_exp(max, has_nan) {
        return special;
    }
    max / temperature + log_sum(x, n, max, 1.0 / temperature, &V64::new())
}

/// out = (x - max)·(1/T) - log_sum; a group where x - max overflows goes through
/// `scaled_difference` (also exact for x = -∞, which the overflow test catches too).
unsafe fn log_out(x: *const f64, out: *mut f64, n: usize, max: f64, inv_t: f64, log_sum: f64) {
    let (vmax, vit, vls, ninf) = (f64x2_splat(max), f64x2_splat(inv_t), f64x2_splat(log_sum), f64x2_splat(f64::NEG_INFINITY));
    let mut j = 0;
    while j + 8 <= n {
        let d = f64::load8(x.add(j)).map(|xi| f64x2_sub(xi, vmax));
        let inf = v128_or(v128_or(f64x2_eq(d[0], ninf), f64x2_eq(d[1], ninf)), v128_or(f64x2_eq(d[2], ninf), f64x2_eq(d[3], ninf)));
        if v128_any_true(inf) {
            for k in j..j + 8 {
                *out.add(k) = scaled_difference(*x.add(k), max, inv_t) - log_sum;
            }
        } else {
            f64::store8(out.add(j), d.map(|di| f64x2_sub(f64x2_mul(di, vit), vls)));
        }
        j += 8;
    }
    while j < n {
        *out.add(j) = scaled_difference(*x.add(j), max, inv_t) - log_sum;
        j += 1;
    }
}

/// out *= inv.
///
/// # Safety
/// `out` valid for `n` elements.
pub unsafe fn scale(out: *mut f64, n: usize, inv: f64) {
    let s = f64x2_splat(inv);
    let mut j = 0;
    while j + 8 <= n {
        f64::store8(out.add(j), f64::load8(out.add(j)).map(|o| f64x2_mul(o, s)));
        j += 8;
    }
    while j < n {
        *out.add(j) *= inv;
        j += 1;
    }
}

/// Σ f over the row in float64: four f64x2 accumulators per 64-element block, blocks compensated.
#[inline(always)]
unsafe fn row_sum(n: usize, vec: impl Fn(usize) -> [v128; 4], one: impl Fn(usize) -> f64) -> f64 {
    let zero = f64x2_splat(0.0);
    let mut total = BlockSum::default();
    let mut j = 0;
    while j + 64 <= n {
        let mut a = [zero; 4];
        for _ in 0..8 {
            add4(&mut a, vec(j));
            j += 8;
        }
        total.add(block_total(a));
    }
    let mut a = [zero; 4];
    while j + 8 <= n {
        add4(&mut a, vec(j));
        j += 8;
    }
    let mut tail = block_total(a);
    while j < n {
        tail += one(j);
        j += 1;
    }
    total.add(tail);
    total.total()
}

/// dx = y ⊙ (dy − Σ dy·y) / T for one row: the operations of generic::softmax_backward_row.
///
/// # Safety
/// `y`, `dy`, `out` valid for `n` elements; `out` may be `y` or `dy`.
pub unsafe fn softmax_backward_row<E: Lanes>(y: *const E, dy: *const E, out: *mut E, n: usize, temperature: f64) {
    if !reciprocal_ok(temperature) {
        return generic::softmax_backward_row::<E>(y, dy, out, n, temperature);
    }
    let dot = row_sum(
        n,
        |j| {
            let (g, p) = (E::load8(dy.add(j)), E::load8(y.add(j)));
            [0, 1, 2, 3].map(|i| f64x2_mul(g[i], p[i]))
        },
        |j| (*dy.add(j)).get() * (*y.add(j)).get(),
    );
    let inv_t = 1.0 / temperature;
    let (vdot, vit) = (f64x2_splat(dot), f64x2_splat(inv_t));
    let mut j = 0;
    if temperature < 1.0 {
        j = rescued_backward_blocks(y, dy, out, n, dot, temperature, inv_t);
    } else {
        // At T ≥ 1 no product comes back into range: the plain loop (a loop that also looked for
        // the rare block was measured ~50% slower, even with its check never taken).
        while j + 8 <= n {
            let (p, g) = (E::load8(y.add(j)), E::load8(dy.add(j)));
            E::store8(out.add(j), [0, 1, 2, 3].map(|i| f64x2_mul(f64x2_mul(p[i], f64x2_sub(g[i], vdot)), vit)));
            j += 8;
        }
    }
    while j < n {
        let yj = (*y.add(j)).get();
        let dyj = (*dy.add(j)).get();
        *out.add(j) = E::put(generic::product_over::<false>(yj, dyj - dot, temperature, inv_t));
        j += 1;
    }
}

/// The 8-element blocks of a softmax_backward_row at T < 1, where a product y·(dy − Σ) under the
/// smallest normal is brought back into range by the division: such a block (rare) is redone by
/// product_over, which keeps the product's bits. Returns where the blocks end.
///
/// # Safety
/// As softmax_backward_row.
#[inline(never)]
unsafe fn rescued_backward_blocks<E: Lanes>(y: *const E, dy: *const E, out: *mut E, n: usize, dot: f64, temperature: f64, inv_t: f64) -> usize {
    let (vdot, vit) = (f64x2_splat(dot), f64x2_splat(inv_t));
    let (vmin, vzero) = (f64x2_splat(f64::MIN_POSITIVE), f64x2_splat(0.0));
    let mut j = 0;
    while j + 8 <= n {
        let (p, g) = (E::load8(y.add(j)), E::load8(dy.add(j)));
        let d = [0, 1, 2, 3].map(|i| f64x2_sub(g[i], vdot));
        let q = [0, 1, 2, 3].map(|i| f64x2_mul(p[i], d[i]));
        // Lanes whose product of two nonzero factors is below the smallest normal (0 included).
        let tiny = (0..4).any(|i| {
            let nonzero = v128_and(f64x2_ne(p[i], vzero), f64x2_ne(d[i], vzero));
            v128_any_true(v128_and(f64x2_lt(f64x2_abs(q[i]), vmin), nonzero))
        });
        if tiny {
            // Read before written: `out` may be `y` or `dy`.
            for k in j..j + 8 {
                let d = (*dy.add(k)).get() - dot;
                *out.add(k) = E::put(generic::product_over::<false>((*y.add(k)).get(), d, temperature, inv_t));
            }
        } else {
            E::store8(out.add(j), q.map(|v| f64x2_mul(v, vit)));
        }
        j += 8;
    }
    j
}

/// dx = (dy − exp(y)·Σ dy) / T for one row: the operations of generic::log_softmax_backward_row.
///
/// # Safety
/// `y`, `dy`, `out` valid for `n` elements; `out` may be `y` or `dy`.
pub unsafe fn log_softmax_backward_row<E: Lanes>(y: *const E, dy: *const E, out: *mut E, n: usize, temperature: f64) {
    if !reciprocal_ok(temperature) {
        return generic::log_softmax_backward_row::<E>(y, dy, out, n, temperature);
    }
    let total = row_sum(n, |j| E::load8(dy.add(j)), |j| (*dy.add(j)).get());
    let inv_t = 1.0 / temperature;
    let v = V64::new();
    let (vtot, vit) = (f64x2_splat(total), f64x2_splat(inv_t));
    let mut j = 0;
    while j + 8 <= n {
        let e = exp4(E::load8(y.add(j)), &v);
        let g = E::load8(dy.add(j));
        E::store8(out.add(j), [0, 1, 2, 3].map(|i| f64x2_mul(f64x2_sub(g[i], f64x2_mul(e[i], vtot)), vit)));
        j += 8;
    }
    while j < n {
        let yj = (*y.add(j)).get();
        let dyj = (*dy.add(j)).get();
        *out.add(j) = E::put((dyj - exp64(yj) * total) * inv_t);
        j += 1;
    }
}

// Cross-entropy's passes over the per-class factors u_j of smoothed and probability targets
// (generic::Factors), lane by lane the operations of generic.rs's scalar versions. Which factors
// are present is decided once per row (Q: target probabilities, HW: class weights); each variant
// is kept out of line (a call per row), or the four of every pass would be inlined into each of
// the four kernels.

/// Eight factors u_j as four f64x2 vectors: (qa·q_j + qb)·w_j, as Factors::at.
#[inline(always)]
unsafe fn factors8<E: Lanes, W: Lanes, const Q: bool, const HW: bool>(f: &Factors<E, W>, j: usize, qa: v128, qb: v128) -> [v128; 4] {
    let mut u = [f64x2_splat(1.0); 4];
    if Q {
        u = E::load8(f.q.add(j)).map(|qi| f64x2_add(f64x2_mul(qa, qi), qb));
    }
    if HW {
        let w = W::load8(f.w.add(j));
        u = [0, 1, 2, 3].map(|i| if Q { f64x2_mul(u[i], w[i]) } else { w[i] });
    }
    u
}

/// Calls `$body` with the const parameters Q and HW matching which of `$f`'s factors are present.
macro_rules! by_factors {
    ($f:expr, $name:ident::<$e:ty, $w:ty>($($arg:expr),*)) => {
        match (!$f.q.is_null(), !$f.w.is_null()) {
            (false, false) => $name::<$e, $w, false, false>($($arg),*),
            (false, true) => $name::<$e, $w, false, true>($($arg),*),
            (true, false) => $name::<$e, $w, true, false>($($arg),*),
            (true, true) => $name::<$e, $w, true, true>($($arg),*),
        }
    };
}

/// Σ_j u_j·(x_j − max), a term with u_j = 0 counting 0 (also where x_j = −∞): generic::factor_sum.
///
/// # Safety
/// `x` and the present factors valid for `n` elements.
pub unsafe fn factor_sum<E: Lanes, W: Lanes>(x: *const E, n: usize, max: f64, f: &Factors<E, W>) -> f64 {
    by_factors!(f, factor_sum_by::<E, W>(x, n, max, f))
}

#[inline(never)]
unsafe fn factor_sum_by<E: Lanes, W: Lanes, const Q: bool, const HW: bool>(x: *const E, n: usize, max: f64, f: &Factors<E, W>) -> f64 {
    let (vmax, qa, qb, zero) = (f64x2_splat(max), f64x2_splat(f.qa), f64x2_splat(f.qb), f64x2_splat(0.0));
    row_sum(
        n,
        |j| {
            let u = factors8::<E, W, Q, HW>(f, j, qa, qb);
            let d = E::load8(x.add(j)).map(|xi| f64x2_sub(xi, vmax));
            [0, 1, 2, 3].map(|i| v128_andnot(f64x2_mul(u[i], d[i]), f64x2_eq(u[i], zero)))
        },
        |j| weighted(f.at(j), (*x.add(j)).get() - max),
    )
}

/// Σ_j u_j: generic::factor_total.
///
/// # Safety
/// The present factors valid for `n` elements.
pub unsafe fn factor_total<E: Lanes, W: Lanes>(n: usize, f: &Factors<E, W>) -> f64 {
    by_factors!(f, factor_total_by::<E, W>(n, f))
}

#[inline(never)]
unsafe fn factor_total_by<E: Lanes, W: Lanes, const Q: bool, const HW: bool>(n: usize, f: &Factors<E, W>) -> f64 {
    let (qa, qb) = (f64x2_splat(f.qa), f64x2_splat(f.qb));
    row_sum(n, |j| factors8::<E, W, Q, HW>(f, j, qa, qb), |j| f.at(j))
}

/// out_j = a·out_j − b·u_j: generic::scale_sub.
///
/// # Safety
/// `out` and the present factors valid for `n` elements.
pub unsafe fn scale_sub<E: Lanes, W: Lanes>(out: *mut E, n: usize, a: f64, b: f64, f: &Factors<E, W>) {
    by_factors!(f, scale_sub_by::<E, W>(out, n, a, b, f))
}

#[inline(never)]
unsafe fn scale_sub_by<E: Lanes, W: Lanes, const Q: bool, const HW: bool>(out: *mut E, n: usize, a: f64, b: f64, f: &Factors<E, W>) {
    let (va, vb, qa, qb) = (f64x2_splat(a), f64x2_splat(b), f64x2_splat(f.qa), f64x2_splat(f.qb));
    let mut j = 0;
    while j + 8 <= n {
        let u = factors8::<E, W, Q, HW>(f, j, qa, qb);
        let o = E::load8(out.add(j));
        E::store8(out.add(j), [0, 1, 2, 3].map(|i| f64x2_sub(f64x2_mul(va, o[i]), f64x2_mul(vb, u[i]))));
        j += 8;
    }
    while j < n {
        *out.add(j) = E::put(a * (*out.add(j)).get() - b * f.at(j));
        j += 1;
    }
}

/// out_j = a·e^((x_j − max)·(1/T)) − b·u_j, the exponential in float64: generic::exp_scale_sub.
///
/// # Safety
/// `x`, `out` and the present factors valid for `n` elements; `out` may be `x`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn exp_scale_sub<E: Lanes, W: Lanes>(x: *const E, out: *mut E, n: usize, max: f64, inv_t: f64, a: f64, b: f64, f: &Factors<E, W>) {
    by_factors!(f, exp_scale_sub_by::<E, W>(x, out, n, max, inv_t, a, b, f))
}

#[allow(clippy::too_many_arguments)]
#[inline(never)]
unsafe fn exp_scale_sub_by<E: Lanes, W: Lanes, const Q: bool, const HW: bool>(
    x: *const E,
    out: *mut E,
    n: usize,
    max: f64,
    inv_t: f64,
    a: f64,
    b: f64,
    f: &Factors<E, W>,
) {
    let v = V64::new();
    let (vmax, vit, va, vb) = (f64x2_splat(max), f64x2_splat(inv_t), f64x2_splat(a), f64x2_splat(b));
    let (qa, qb) = (f64x2_splat(f.qa), f64x2_splat(f.qb));
    let mut j = 0;
    while j + 8 <= n {
        let e = exp4(E::load8(x.add(j)).map(|xi| f64x2_mul(f64x2_sub(xi, vmax), vit)), &v);
        let u = factors8::<E, W, Q, HW>(f, j, qa, qb);
        E::store8(out.add(j), [0, 1, 2, 3].map(|i| f64x2_sub(f64x2_mul(va, e[i]), f64x2_mul(vb, u[i]))));
        j += 8;
    }
    while j < n {
        let e = exp64(((*x.add(j)).get() - max) * inv_t);
        *out.add(j) = E::put(a * e - b * f.at(j));
        j += 1;
    }
}
