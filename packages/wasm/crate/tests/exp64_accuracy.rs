//! Measures the float64 exp (exp64::exp64, whose operations the SIMD lanes of simd64 repeat in the
//! same order) against a double-double reference (about 2^-100 relative), on a dense sample of the
//! whole range it serves: t in [-745.2, 709.79], subnormal results included. Errors are in ulps of
//! the true value (below 2^-1022: in units of the smallest subnormal).

use softmax_wasm::exp64::exp64;
use std::thread;

#[derive(Clone, Copy)]
struct Dd(f64, f64);

fn two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    let bb = s - a;
    Dd(s, (a - (s - bb)) + (b - bb))
}

fn quick(a: f64, b: f64) -> Dd {
    let s = a + b;
    Dd(s, b - (s - a))
}

fn two_prod(a: f64, b: f64) -> Dd {
    let p = a * b;
    Dd(p, a.mul_add(b, -p))
}

fn add(a: Dd, b: Dd) -> Dd {
    let s = two_sum(a.0, b.0);
    let t = two_sum(a.1, b.1);
    let u = quick(s.0, s.1 + t.0);
    quick(u.0, u.1 + t.1)
}

fn mul(a: Dd, b: Dd) -> Dd {
    let p = two_prod(a.0, b.0);
    quick(p.0, p.1 + (a.0 * b.1 + a.1 * b.0))
}

fn div_f(a: Dd, b: f64) -> Dd {
    let q1 = a.0 / b;
    let r = add(a, Dd(-two_prod(q1, b).0, -two_prod(q1, b).1));
    let q2 = r.0 / b;
    quick(q1, q2)
}

/// ln 2 to about 107 bits.
const LN2: Dd = Dd(6.931_471_805_599_452_862e-1, 2.319_046_813_846_299_558e-17);

/// e^t = 2^n · e^r (|r| ≤ 0.35), e^r by its Taylor series to r^30/30! in double-double, returned
/// as (n, e^r).
fn exp_dd(t: f64) -> (i32, Dd) {
    let n = (t / LN2.0).round();
    let nl = mul(Dd(n, 0.0), LN2);
    let r = add(Dd(t, 0.0), Dd(-nl.0, -nl.1));
    let mut term = Dd(1.0, 0.0);
    let mut sum = Dd(1.0, 0.0);
    for k in 1..=30 {
        term = div_f(mul(term, r), k as f64);
        sum = add(sum, term);
    }
    (n as i32, sum)
}

/// Multiply by 2^k in steps that stay exact and in range.
fn scale2(mut v: f64, mut k: i32) -> f64 {
    while k > 600 {
        v *= 2f64.powi(600);
        k -= 600;
    }
    while k < -600 {
        v *= 2f64.powi(-600);
        k += 600;
    }
    v * 2f64.powi(k)
}

/// Error of exp64(t) in ulps of the true value.
fn ulp_error(t: f64) -> f64 {
    let (n, e) = exp_dd(t);
    let got = exp64(t);
    if t > f64::MAX.ln() {
        // The true value overflows (rounds to +∞ at any t past ln(MAX) + 2^-53·ln2, which the
        // sampled points beyond ln(MAX) all are): +∞ is the correctly rounded answer.
        return if got == f64::INFINITY { 0.0 } else { f64::INFINITY };
    }
    let g = scale2(got, -n); // exact: got is a power-of-2 multiple of a number near e
    let diff = ((g - e.0) - e.1).abs();
    // floor(log2 e) is -1 or 0; below 2^-1022 the spacing is the subnormal one.
    let le = if e.0 < 1.0 { -1 } else { 0 };
    let ulp_exp = (le + n).max(-1022) - 52 - n;
    diff / 2f64.powi(ulp_exp)
}

#[test]
fn exp64_is_within_1_3_ulp_over_its_whole_range() {
    let (lo, hi) = (-745.2f64, 709.79f64);
    let per = 1_500_000u64;
    let threads = 4u64;
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            thread::spawn(move || {
                let mut worst = (0.0f64, 0.0f64);
                let mut count = 0u64;
                let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ (i + 1);
                for k in 0..per {
                    // Evenly spaced points plus a random offset below the spacing: every r in
                    // [-ln2/2, ln2/2] is visited at every n.
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let u = (seed >> 11) as f64 / (1u64 << 53) as f64;
                    let idx = (k * threads + i) as f64 + u;
                    let t = lo + (hi - lo) * idx / (per * threads) as f64;
                    // And a dense sample near 0, where n = 0 and the ulp is finest relative to r.
                    let s = (u - 0.5) * 1.4;
                    for x in [t, s] {
                        let err = ulp_error(x);
                        count += 1;
                        if err > worst.0 {
                            worst = (err, x);
                        }
                    }
                }
                (worst, count)
            })
        })
        .collect();
    let mut worst = (0.0f64, 0.0f64);
    let mut count = 0;
    for h in handles {
        let (w, c) = h.join().unwrap();
        count += c;
        if w.0 > worst.0 {
            worst = w;
        }
    }
    println!("exp64: {count} samples in [-745.2, 709.79], worst error {:.4} ulp at t = {:e}", worst.0, worst.1);
    assert!(count >= 12_000_000);
    // Not correctly rounded: the final 1 + r·(1 + r·q) rounds (0.5 ulp), r = t − n·ln2 rounds (up to
    // 0.25 ulp of the result: |r| ≤ 0.35), and r·(1 + r·q) with its Horner roundings adds about
    // 0.35·0.5 ulp more. About 1.25 ulp in all, or 2.8e-16 relative: nothing against rtol 1e-12.
    assert!(worst.0 <= 1.3, "worst error {} ulp at t = {}", worst.0, worst.1);
}

#[test]
fn the_reference_agrees_with_std_exp() {
    // A check on the double-double reference itself: within one ulp of the platform's exp.
    for &t in &[-700.5, -3.0, -1.0e-3, 0.0, 0.25, 1.0, 10.0, 700.25] {
        let (n, e) = exp_dd(t);
        let v = scale2(e.0, n);
        assert!((v - t.exp()).abs() <= t.exp() * 2.3e-16, "{t}: {v} vs {}", t.exp());
    }
    assert_eq!(ulp_error(0.0), 0.0);
}
