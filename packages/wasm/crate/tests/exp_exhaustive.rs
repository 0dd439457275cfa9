//! Measures the float32 exp of the kernels (exp32::exp_shifted, the same operations the SIMD lanes
//! perform) against float64's exp: exhaustively over every float32 t in the range it serves
//! (max = 0, T = 1, where the shift s is 0: t from -0 down to where results are flushed), and on
//! random samples for other row maxima and temperatures. The function computes e^((x - s)/T) for the
//! row's shift s ≤ max (see exp32.rs), so that is the reference. Errors are in float32 ulps of the
//! true value.

use softmax_wasm::exp32::{exp_shifted, Exp32};
use std::thread;

/// The spacing of float32 numbers at |v| (normal range).
fn ulp32(v: f64) -> f64 {
    let e = v.abs().log2().floor() as i32;
    2f64.powi(e.max(-126) - 23)
}

/// Worst ulp error and where, count, worst relative error, over x in the bit range [lo, hi].
fn worst_over(lo: u32, hi: u32, c: Exp32, t: f64) -> (f64, f32, u64, f64) {
    let mut worst = (0.0, 0.0f32, 0u64, 0.0);
    let mut count = 0u64;
    for bits in lo..=hi {
        let x = f32::from_bits(bits);
        let reference = ((x as f64 - c.s as f64) / t).exp();
        if reference < f32::MIN_POSITIVE as f64 {
            continue; // flushed or subnormal: covered by the contract's atol, not by ulps
        }
        let got = if t == 1.0 { exp_shifted::<false>(x, &c) } else { exp_shifted::<true>(x, &c) };
        let abs = (got as f64 - reference).abs();
        let err = abs / ulp32(reference);
        count += 1;
        if err > worst.0 {
            worst = (err, x, 0, worst.3);
        }
        if abs / reference > worst.3 {
            worst.3 = abs / reference;
        }
    }
    worst.2 = count;
    worst
}

#[test]
fn exp_is_within_2_7_ulp_for_every_float32_in_its_range() {
    let c = Exp32::new(0.0, 1.0).unwrap();
    assert_eq!(c.s, 0.0);
    // Negative floats: bits 0x8000_0000 (-0) up to the first whose exp is below 2^-126 (about -87.34).
    let last = (-87.34f32).to_bits();
    let first = 0x8000_0000u32;
    let threads = 4u32;
    let span = (last - first) / threads + 1;
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let lo = first + i * span;
            let hi = (lo + span - 1).min(last);
            thread::spawn(move || worst_over(lo, hi, c, 1.0))
        })
        .collect();
    let mut worst = (0.0, 0.0f32, 0u64, 0.0);
    let mut total = 0;
    let mut rel = 0.0f64;
    for h in handles {
        let w = h.join().unwrap();
        total += w.2;
        rel = rel.max(w.3);
        if w.0 > worst.0 {
            worst = w;
        }
    }
    println!(
        "exhaustive: {total} float32 inputs in [-87.34, 0], worst error {:.4} ulp at t = {:e}, worst relative error {:.3e}",
        worst.0, worst.1, rel
    );
    assert!(total > 1_000_000_000, "the sweep covered only {total} inputs");
    // Degree-5 polynomial: about 1 ulp of approximation error for p ≥ 1, which counts double in the
    // finer ulps of p < 1, plus the Horner roundings. Relative error is what the 1e-6 contract spends (see README).
    assert!(worst.0 <= 2.7, "worst error {} ulp at {}", worst.0, worst.1);
    assert!(rel <= 2.2e-7, "worst relative error {rel}");
}

/// A small deterministic generator (xorshift) so the sampled test is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn exp_keeps_its_accuracy_for_any_row_max_and_temperature() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut worst = (0.0, 0.0f32, 0.0f32, 0.0f64);
    // The last maxima sit at the edge of the fast path (|max·log2e/T| just below MK_MAX for T = 1).
    for &max in &[0.0f32, 1.0, -3.25, 10.3, -77.7, 1000.0, 12345.678, 3.0e-5, 22_712.0, -22_712.0] {
        for &t in &[1.0f64, 0.5, 0.1, 2.0, 3.7, 100.0, 1.0e-3] {
            let Some(c) = Exp32::new(max, t) else { continue };
            assert!(c.s <= max && c.log_shift(t) < 1.0, "shift {} for max {max}, T {t}", c.s);
            for _ in 0..200_000 {
                // x - max spread over the whole served range of t = (x - max)/T in [-87.3, 0].
                let x = (max as f64 - rng.next() * 87.3 * t) as f32;
                if x > max {
                    continue;
                }
                let reference = ((x as f64 - c.s as f64) / t).exp();
                if reference < f32::MIN_POSITIVE as f64 {
                    continue;
                }
                let got = if t == 1.0 { exp_shifted::<false>(x, &c) } else { exp_shifted::<true>(x, &c) };
                let err = (got as f64 - reference).abs() / ulp32(reference);
                if err > worst.0 {
                    worst = (err, x, max, t);
                }
            }
        }
    }
    println!("sampled: worst {:.4} ulp at x = {}, max = {}, T = {}", worst.0, worst.1, worst.2, worst.3);
    assert!(worst.0 <= 3.0, "worst {} ulp at x = {}, max = {}, T = {}", worst.0, worst.1, worst.2, worst.3);
}

#[test]
fn exp_gives_exactly_one_at_the_shift_and_zero_at_minus_infinity() {
    for &max in &[0.0f32, 1.5, -20.0, 4000.0] {
        for &t in &[1.0f64, 0.3, 7.0] {
            let c = Exp32::new(max, t).unwrap();
            assert_eq!(exp_shifted::<true>(c.s, &c), 1.0);
            // At the max: e^((max - s)/T) in [1, 2), so a row's sum is at least 1 (see the flushing note).
            let at_max = exp_shifted::<true>(max, &c);
            assert!((1.0..2.0).contains(&at_max), "{at_max} at the max {max}, T {t}");
            assert_eq!(exp_shifted::<true>(f32::NEG_INFINITY, &c), 0.0);
            assert_eq!(exp_shifted::<true>(-f32::MAX, &c), 0.0);
        }
    }
}
