//! The float32 forward passes in SIMD128, four vectors (16 floats) per step with independent
//! accumulators. Instruction choice follows what V8 emits on x86: `f32x4.pmax` (one `maxps`)
//! rather than NaN-exact `f32x4.max` (several instructions), NaN detected by `x != x` flags, and
//! integer arithmetic on float bits for 2^n instead of float↔int conversions.

use core::arch::wasm32::*;

use crate::exp32::{exp_shifted, Exp32, MAGIC, NF_CUT, P2, P3, P4, P5};

/// The row constants, splatted once per row. The polynomial is read through a volatile load so
/// LLVM keeps it in locals instead of rematerialising `v128.const` inside the loop, which V8
/// expands into several instructions per use.
struct V32 {
    max: v128,
    k: v128,
    cm: v128,
    s: v128,
    c1: v128,
    c2: v128,
    inv_t: v128,
    magic: v128,
    nf_cut: v128,
    one: v128,
    p: [v128; 4],
}

static CONSTS: [f32; 7] = [P2, P3, P4, P5, MAGIC, NF_CUT, 1.0];

impl V32 {
    #[inline(always)]
    fn new(c: &Exp32) -> V32 {
        // SAFETY: reading a static.
        let k = unsafe { core::ptr::read_volatile(&CONSTS) };
        V32 {
            max: f32x4_splat(c.max),
            k: f32x4_splat(c.k),
            cm: f32x4_splat(c.cm),
            s: f32x4_splat(c.s),
            c1: f32x4_splat(c.c1),
            c2: f32x4_splat(c.c2),
            inv_t: f32x4_splat(c.inv_t),
            magic: f32x4_splat(k[4]),
            nf_cut: f32x4_splat(k[5]),
            one: f32x4_splat(k[6]),
            p: [f32x4_splat(k[0]), f32x4_splat(k[1]), f32x4_splat(k[2]), f32x4_splat(k[3])],
        }
    }
}

/// Lane-wise `exp_shifted` (see exp32.rs for the numerical argument; same operations, same order).
#[inline(always)]
fn exp_v<const SCALED: bool>(x: v128, c: &V32) -> v128 {
    let nf = f32x4_add(f32x4_mul(x, c.k), c.cm);
    let n = f32x4_sub(nf, c.magic);
    let b = f32x4_add(f32x4_mul(n, c.c1), c.s);
    let mut r = f32x4_sub(f32x4_sub(x, b), f32x4_mul(n, c.c2));
    if SCALED {
        r = f32x4_mul(r, c.inv_t);
    }
    let mut q = f32x4_add(f32x4_mul(c.p[3], r), c.p[2]);
    q = f32x4_add(f32x4_mul(q, r), c.p[1]);
    q = f32x4_add(f32x4_mul(q, r), c.p[0]);
    q = f32x4_add(f32x4_mul(q, r), c.one);
    let p = f32x4_add(f32x4_mul(q, r), c.one);
    let e = i32x4_add(p, i32x4_shl(nf, 23));
    v128_andnot(e, f32x4_lt(nf, c.nf_cut))
}

#[inline(always)]
unsafe fn load(p: *const f32) -> v128 {
    v128_load(p as *const v128)
}

#[inline(always)]
unsafe fn store(p: *mut f32, v: v128) {
    v128_store(p as *mut v128, v)
}

/// The four lanes of a float32 vector added in float64.
#[inline(always)]
fn lanes_f64(t: v128) -> f64 {
    let lo = f64x2_promote_low_f32x4(t);
    let hi = f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(t, t));
    let s = f64x2_add(lo, hi);
    f64x2_extract_lane::<0>(s) + f64x2_extract_lane::<1>(s)
}

/// Row max ignoring NaN (pmax keeps its first operand when the second is NaN), and a NaN flag.
///
/// # Safety
/// `x` valid for `n` elements.
pub unsafe fn stats(x: *const f32, n: usize) -> (f32, bool) {
    let ninf = f32x4_splat(f32::NEG_INFINITY);
    let (mut m0, mut m1, mut m2, mut m3) = (ninf, ninf, ninf, ninf);
    let (mut f0, mut f1) = (i32x4_splat(0), i32x4_splat(0));
    let mut j = 0;
    while j + 16 <= n {
        let v0 = load(x.add(j));
        let v1 = load(x.add(j + 4));
        let v2 = load(x.add(j + 8));
        let v3 = load(x.add(j + 12));
        m0 = f32x4_pmax(m0, v0);
        m1 = f32x4_pmax(m1, v1);
        m2 = f32x4_pmax(m2, v2);
        m3 = f32x4_pmax(m3, v3);
        f0 = v128_or(f0, v128_or(f32x4_ne(v0, v0), f32x4_ne(v1, v1)));
        f1 = v128_or(f1, v128_or(f32x4_ne(v2, v2), f32x4_ne(v3, v3)));
        j += 16;
    }
    while j + 4 <= n {
        let v = load(x.add(j));
        m0 = f32x4_pmax(m0, v);
        f0 = v128_or(f0, f32x4_ne(v, v));
        j += 4;
    }
    let m = f32x4_pmax(f32x4_pmax(m0, m1), f32x4_pmax(m2, m3));
    let m = f32x4_pmax(m, i32x4_shuffle::<2, 3, 0, 1>(m, m));
    let m = f32x4_pmax(m, i32x4_shuffle::<1, 0, 3, 2>(m, m));
    let mut max = f32x4_extract_lane::<0>(m);
    let mut has_nan = v128_any_true(v128_or(f0, f1));
    while j < n {
        let v = *x.add(j);
        has_nan |= v != v;
        max = if max < v { v } else { max };
        j += 1;
    }
    (max, has_nan)
}

/// out = exp((x - s)/T); returns Σ out. Blocks of 64: each 16-float step adds its four vectors
/// pairwise (2 roundings) into one block accumulator (3 more after the first, exact, add), and the
/// block total joins a float64 sum, so every term passes through at most 5 float32 roundings and
/// the relative error of the row sum is below 5·2^-24 + O(2^-52·n/64) for any row length.
///
/// Speed (V8 on x86, measured): one accumulator instead of four leaves V8's register allocator
/// fewer vectors to spill, and the block written out as four steps instead of a 4-iteration loop
/// lets it keep the row constants in registers across the block; together about 10% faster.
///
/// # Safety
/// `x`, `out` valid for `n` elements (may be the same).
pub unsafe fn exp_store_sum<const SCALED: bool>(x: *const f32, out: *mut f32, n: usize, c: &Exp32) -> f64 {
    let v = V32::new(c);
    let zero = f32x4_splat(0.0);
    let mut total = f64x2_splat(0.0);
    let mut j = 0;
    while j + 64 <= n {
        let mut t = zero;
        macro_rules! step {
            () => {{
                let e0 = exp_v::<SCALED>(load(x.add(j)), &v);
                let e1 = exp_v::<SCALED>(load(x.add(j + 4)), &v);
                let e2 = exp_v::<SCALED>(load(x.add(j + 8)), &v);
                let e3 = exp_v::<SCALED>(load(x.add(j + 12)), &v);
                store(out.add(j), e0);
                store(out.add(j + 4), e1);
                store(out.add(j + 8), e2);
                store(out.add(j + 12), e3);
                t = f32x4_add(t, f32x4_add(f32x4_add(e0, e1), f32x4_add(e2, e3)));
                j += 16;
            }};
        }
        step!();
        step!();
        step!();
        step!();
        let hi = i32x4_shuffle::<2, 3, 2, 3>(t, t);
        total = f64x2_add(total, f64x2_add(f64x2_promote_low_f32x4(t), f64x2_promote_low_f32x4(hi)));
    }
    let mut a = zero;
    while j + 4 <= n {
        let e = exp_v::<SCALED>(load(x.add(j)), &v);
        store(out.add(j), e);
        a = f32x4_add(a, e);
        j += 4;
    }
    let mut sum = f64x2_extract_lane::<0>(total) + f64x2_extract_lane::<1>(total) + lanes_f64(a);
    while j < n {
        let e = exp_shifted::<SCALED>(*x.add(j), c);
        *out.add(j) = e;
        sum += e as f64;
        j += 1;
    }
    sum
}

/// Σ exp((x - s)/T) over entries below the max, and the count of entries equal to the max. With
/// STORE, also out = exp((x - s)/T) for every entry (the max's included): cross-entropy's gradient
/// pass then scales these instead of computing the exp again.
///
/// Inlined into each caller (log-softmax's and logSumExp's shared log-sum, and cross-entropy's rows),
/// as it was into its one caller before cross-entropy.
///
/// # Safety
/// `x` valid for `n` elements; with STORE, `out` too (it may equal `x`).
#[inline(always)]
pub unsafe fn exp_rest<const SCALED: bool, const STORE: bool>(x: *const f32, out: *mut f32, n: usize, c: &Exp32) -> (f64, usize) {
    let v = V32::new(c);
    let zero = f32x4_splat(0.0);
    let mut total = f64x2_splat(0.0);
    let mut count = i32x4_splat(0);
    let mut j = 0;
    while j + 64 <= n {
        let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
        for _ in 0..4 {
            let x0 = load(x.add(j));
            let x1 = load(x.add(j + 4));
            let x2 = load(x.add(j + 8));
            let x3 = load(x.add(j + 12));
            let (q0, q1, q2, q3) = (f32x4_eq(x0, v.max), f32x4_eq(x1, v.max), f32x4_eq(x2, v.max), f32x4_eq(x3, v.max));
            if STORE {
                let (e0, e1, e2, e3) = (exp_v::<SCALED>(x0, &v), exp_v::<SCALED>(x1, &v), exp_v::<SCALED>(x2, &v), exp_v::<SCALED>(x3, &v));
                store(out.add(j), e0);
                store(out.add(j + 4), e1);
                store(out.add(j + 8), e2);
                store(out.add(j + 12), e3);
                a0 = f32x4_add(a0, v128_andnot(e0, q0));
                a1 = f32x4_add(a1, v128_andnot(e1, q1));
                a2 = f32x4_add(a2, v128_andnot(e2, q2));
                a3 = f32x4_add(a3, v128_andnot(e3, q3));
            } else {
                // Written as before STORE existed, so log-softmax and logSumExp compile as they did.
                a0 = f32x4_add(a0, v128_andnot(exp_v::<SCALED>(x0, &v), q0));
                a1 = f32x4_add(a1, v128_andnot(exp_v::<SCALED>(x1, &v), q1));
                a2 = f32x4_add(a2, v128_andnot(exp_v::<SCALED>(x2, &v), q2));
                a3 = f32x4_add(a3, v128_andnot(exp_v::<SCALED>(x3, &v), q3));
            }
            // A true lane is -1: subtracting the masks counts them.
            count = i32x4_sub(count, i32x4_add(i32x4_add(q0, q1), i32x4_add(q2, q3)));
            j += 16;
        }
        let t = f32x4_add(f32x4_add(a0, a1), f32x4_add(a2, a3));
        let hi = i32x4_shuffle::<2, 3, 2, 3>(t, t);
        total = f64x2_add(total, f64x2_add(f64x2_promote_low_f32x4(t), f64x2_promote_low_f32x4(hi)));
    }
    let mut a = zero;
    while j + 4 <= n {
        let x0 = load(x.add(j));
        let q0 = f32x4_eq(x0, v.max);
        if STORE {
            let e0 = exp_v::<SCALED>(x0, &v);
            store(out.add(j), e0);
            a = f32x4_add(a, v128_andnot(e0, q0));
        } else {
            a = f32x4_add(a, v128_andnot(exp_v::<SCALED>(x0, &v), q0));
        }
        count = i32x4_sub(count, q0);
        j += 4;
    }
    let mut rest = f64x2_extract_lane::<0>(total) + f64x2_extract_lane::<1>(total) + lanes_f64(a);
    let mut at_max = (i32x4_extract_lane::<0>(count)
        + i32x4_extract_lane::<1>(count)
        + i32x4_extract_lane::<2>(count)
        + i32x4_extract_lane::<3>(count)) as usize;
    while j < n {
        let xv = *x.add(j);
        if xv == c.max {
            if STORE {
                *out.add(j) = exp_shifted::<SCALED>(xv, c);
            }
            at_max += 1;
        } else if STORE {
            let e = exp_shifted::<SCALED>(xv, c);
            *out.add(j) = e;
            rest += e as f64;
        } else {
            rest += exp_shifted::<SCALED>(xv, c) as f64;
        }
        j += 1;
    }
    (rest, at_max)
}

/// out *= inv.
///
/// # Safety
/// `out` valid for `n` elements.
pub unsafe fn scale(out: *mut f32, n: usize, inv: f32) {
    let s = f32x4_splat(inv);
    let mut j = 0;
    while j + 16 <= n {
        store(out.add(j), f32x4_mul(load(out.add(j)), s));
        store(out.add(j + 4), f32x4_mul(load(out.add(j + 4)), s));
        store(out.add(j + 8), f32x4_mul(load(out.add(j + 8)), s));
        store(out.add(j + 12), f32x4_mul(load(out.add(j + 12)), s));
        j += 16;
    }
    while j + 4 <= n {
        store(out.add(j), f32x4_mul(load(out.add(j)), s));
        j += 4;
    }
    while j < n {
        *out.add(j) *= inv;
        j += 1;
    }
}

/// out = (x - max)·(1/T) - log_sum.
///
/// # Safety
/// `x`, `out` valid for `n` elements (may be the same).
pub unsafe fn log_out(x: *const f32, out: *mut f32, n: usize, c: &Exp32, log_sum: f32) {
    let (m, it, l) = (f32x4_splat(c.max), f32x4_splat(c.inv_t), f32x4_splat(log_sum));
    let f = |v: v128| f32x4_sub(f32x4_mul(f32x4_sub(v, m), it), l);
    let mut j = 0;
    while j + 16 <= n {
        let (v0, v1, v2, v3) = (load(x.add(j)), load(x.add(j + 4)), load(x.add(j + 8)), load(x.add(j + 12)));
        store(out.add(j), f(v0));
        store(out.add(j + 4), f(v1));
        store(out.add(j + 8), f(v2));
        store(out.add(j + 12), f(v3));
        j += 16;
    }
    while j + 4 <= n {
        store(out.add(j), f(load(x.add(j))));
        j += 4;
    }
    while j < n {
        *out.add(j) = (*x.add(j) - c.max) * c.inv_t - log_sum;
        j += 1;
    }
}

/// out = exp((x - s)/T) only (the test probe that compares this build with the scalar one).
///
/// # Safety
/// `x`, `out` valid for `n` elements.
pub unsafe fn exp_only<const SCALED: bool>(x: *const f32, out: *mut f32, n: usize, c: &Exp32) {
    let v = V32::new(c);
    let mut j = 0;
    while j + 4 <= n {
        store(out.add(j), exp_v::<SCALED>(load(x.add(j)), &v));
        j += 4;
    }
    while j < n {
        *out.add(j) = exp_shifted::<SCALED>(*x.add(j), c);
        j += 1;
    }
}
