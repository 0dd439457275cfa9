//! The cross-entropy kernel on the host (the scalar passes and the float64 route; the SIMD lanes
//! are the same operations, and @softmax/wasm's conformance run covers the wasm builds), against
//! an independent float64 computation written straight from the spec with std's exp, ln and tanh:
//! every option and their combinations, ignored rows, probability targets, in place, the special
//! rows. Also expm1 and the soft-cap's tanh against std.

use softmax_wasm::cross_entropy::{cross_entropy, Outputs, Params, Targets};
use softmax_wasm::exp64::expm1_64;
use softmax_wasm::softcap::tanh_sech2;

/// xorshift64*: reproducible inputs without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

fn ulps(a: f64, b: f64) -> f64 {
    if a == b {
        return 0.0;
    }
    (a - b).abs() / (f64::EPSILON * a.abs().max(b.abs()).max(f64::MIN_POSITIVE))
}

#[test]
fn expm1_is_within_2_ulp_of_std() {
    let mut worst: f64 = 0.0;
    let mut rng = Rng(7);
    for i in 0..400_000 {
        let y = if i % 2 == 0 { rng.uniform(-1.0, 1.0) } else { rng.uniform(-1.0, 1.0) * 10f64.powf(rng.uniform(-300.0, 0.0)) };
        worst = worst.max(ulps(expm1_64(y), y.exp_m1()));
    }
    for y in [-40.0, -0.5, 0.5, 5.0, 700.0] {
        worst = worst.max(ulps(expm1_64(y), f64::exp_m1(y)));
    }
    assert!(worst <= 2.0, "expm1 worst {worst} ulp");
    assert_eq!(expm1_64(f64::NEG_INFINITY), -1.0);
    assert_eq!(expm1_64(f64::INFINITY), f64::INFINITY);
    assert!(expm1_64(f64::NAN).is_nan());
    assert_eq!(expm1_64(0.0), 0.0);
}

#[test]
fn tanh_and_sech2_are_within_4_ulp_of_std() {
    let (mut worst_t, mut worst_s): (f64, f64) = (0.0, 0.0);
    let mut rng = Rng(11);
    for _ in 0..400_000 {
        let u = rng.uniform(-1.0, 1.0) * 10f64.powf(rng.uniform(-12.0, 2.5));
        let (t, s) = tanh_sech2(u);
        worst_t = worst_t.max(ulps(t, u.tanh()));
        let c = u.cosh();
        worst_s = worst_s.max(ulps(s, 1.0 / c / c));
    }
    assert!(worst_t <= 4.0 && worst_s <= 4.0, "tanh {worst_t} ulp, sech² {worst_s} ulp");
    assert_eq!(tanh_sech2(f64::INFINITY), (1.0, 0.0));
    assert_eq!(tanh_sech2(f64::NEG_INFINITY), (-1.0, 0.0));
    assert!(tanh_sech2(-0.0).0.is_sign_negative());
}

/// One call's options and targets, for the oracle and the kernel alike.
#[derive(Clone)]
struct Case {
    rows: usize,
    cols: usize,
    x: Vec<f64>,
    /// Class indices (as i32; `ignore` marks an ignored row) or probabilities.
    index: Option<Vec<i32>>,
    probs: Option<Vec<f64>>,
    ignore: i32,
    weight: Option<Vec<f64>>,
    eps: f64,
    zeta: f64,
    softcap: f64,
    t: f64,
    k: f64,
}

struct Result {
    loss: Vec<f64>,
    lse: Vec<f64>,
    grad: Vec<f64>,
    /// The gradient's error allowance per element, divided by rtol (condition-aware: the sizes of
    /// the terms of A·p − b + 2ζ·lse·p times k/T·σ).
    scale: Vec<f64>,
}

/// The spec, term by term, in plain float64 with std's functions (logp_j = s_j − lse).
fn oracle(c: &Case) -> Result {
    let (rows, cols) = (c.rows, c.cols);
    let mut r = Result { loss: vec![0.0; rows], lse: vec![0.0; rows], grad: vec![0.0; rows * cols], scale: vec![0.0; rows * cols] };
    let w = |j: usize| c.weight.as_ref().map_or(1.0, |w| w[j]);
    let total_w: f64 = (0..cols).map(w).sum();
    for i in 0..rows {
        let xs = &c.x[i * cols..(i + 1) * cols];
        let z: Vec<f64> = xs.iter().map(|&v| if c.softcap > 0.0 { c.softcap * (v / c.softcap).tanh() } else { v }).collect();
        let dz: Vec<f64> = xs.iter().map(|&v| if c.softcap > 0.0 { 1.0 / (v / c.softcap).cosh().powi(2) } else { 1.0 }).collect();
        let s: Vec<f64> = z.iter().map(|v| v / c.t).collect();
        let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        // ln Σ e^(s − m) with the max's own 1 kept out (ln_1p), or a confident row's loss,
        // ln(1 + tiny), would be all rounding error.
        let at_max = s.iter().filter(|&&v| v == m).count() as f64;
        let rest: f64 = s.iter().filter(|&&v| v != m).map(|v| (v - m).exp()).sum();
        let log_sum = if at_max == 1.0 { rest.ln_1p() } else { (at_max + rest).ln() };
        let lse = m + log_sum;
        r.lse[i] = lse;
        let logp: Vec<f64> = s.iter().map(|v| (v - m) - log_sum).collect();
        let p: Vec<f64> = logp.iter().map(|l| l.exp()).collect();
        let (a_coef, b, ce): (f64, Vec<f64>, f64) = if let Some(tg) = &c.index {
            let t = tg[i];
            if t == c.ignore {
                continue;
            }
            let t = t as usize;
            let omega = w(t);
            let ce = -(1.0 - c.eps) * omega * logp[t] - c.eps / cols as f64 * (0..cols).map(|j| w(j) * logp[j]).sum::<f64>();
            let b = (0..cols).map(|j| if j == t { (1.0 - c.eps) * omega } else { 0.0 } + c.eps / cols as f64 * w(j)).collect();
            ((1.0 - c.eps) * omega + c.eps / cols as f64 * total_w, b, ce)
        } else {
            let q = &c.probs.as_ref().unwrap()[i * cols..(i + 1) * cols];
            let u: Vec<f64> = (0..cols).map(|j| w(j) * ((1.0 - c.eps) * q[j] + c.eps / cols as f64)).collect();
            let ce = -(0..cols).map(|j| u[j] * logp[j]).sum::<f64>();
            (u.iter().sum(), u, ce)
        };
        r.loss[i] = ce + c.zeta * lse * lse;
        for j in 0..cols {
            let pz = 2.0 * c.zeta * lse * p[j];
            let g = a_coef * p[j] - b[j] + pz;
            r.grad[i * cols + j] = c.k / c.t * dz[j] * g;
            r.scale[i * cols + j] = (c.k / c.t * dz[j]).abs() * (a_coef * p[j] + b[j] + pz.abs());
        }
    }
    r
}

trait Float: Copy {
    fn from(v: f64) -> Self;
    fn to(self) -> f64;
}
impl Float for f32 {
    fn from(v: f64) -> f32 {
        v as f32
    }
    fn to(self) -> f64 {
        self as f64
    }
}
impl Float for f64 {
    fn from(v: f64) -> f64 {
        v
    }
    fn to(self) -> f64 {
        self
    }
}

/// The kernel on `case`, its logits and probabilities rounded to E; `in_place`: the gradient over the logits.
fn kernel<E: Float + softmax_wasm::cross_entropy::Float>(c: &Case, in_place: bool) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut x: Vec<E> = c.x.iter().map(|&v| E::from(v)).collect();
    let probs: Option<Vec<E>> = c.probs.as_ref().map(|q| q.iter().map(|&v| E::from(v)).collect());
    let index: Option<Vec<u32>> = c.index.as_ref().map(|t| t.iter().map(|&v| v as u32).collect());
    let mut loss = vec![0.0f64; c.rows];
    let mut lse = vec![E::from(0.0); c.rows];
    let mut grad = vec![E::from(0.0); c.rows * c.cols];
    let p = Params { temperature: c.t, softcap: c.softcap, smoothing: c.eps, z_loss: c.zeta, scale: c.k };
    let targets = match (&index, &probs) {
        (Some(t), _) => {
            let ignore = if c.ignore >= 0 && (c.ignore as usize) < c.cols { c.ignore as u32 } else { u32::MAX };
            Targets::Index { t: t.as_ptr(), ignore }
        }
        (None, Some(q)) => Targets::Probs(q.as_ptr()),
        _ => unreachable!(),
    };
    let weight = c.weight.as_ref().map_or(core::ptr::null(), |w| w.as_ptr());
    let g = if in_place { x.as_mut_ptr() } else { grad.as_mut_ptr() };
    unsafe {
        cross_entropy::<E, f64>(x.as_ptr(), targets, weight, Outputs { loss: loss.as_mut_ptr(), lse: lse.as_mut_ptr(), grad: g }, c.rows, c.cols, &p);
    }
    let grad = if in_place { x } else { grad };
    (loss, lse.iter().map(|v| v.to()).collect(), grad.iter().map(|v| v.to()).collect())
}

/// |got − want| ≤ rtol·scale (+ the dtype's smallest normal where want is subnormal); NaN meets NaN,
/// an infinity the same infinity.
fn check(what: &str, got: &[f64], want: &[f64], scale: &[f64], rtol: f64, min_normal: f64) {
    for i in 0..want.len() {
        let (g, w) = (got[i], want[i]);
        if g == w || (g.is_nan() && w.is_nan()) {
            continue;
        }
        let allowed = rtol * scale[i] + if w.abs() < min_normal { min_normal } else { 0.0 };
        assert!((g - w).abs() <= allowed, "{what}[{i}]: got {g}, want {w} (allowed {allowed:e})");
    }
}

fn run_case(name: &str, c: &Case) {
    let want = oracle(c);
    for dtype in ["float32", "float64"] {
        // The oracle takes the rounded inputs, so that only the kernel's error is measured.
        let mut rc = c.clone();
        let (rtol, min_normal) = if dtype == "float32" {
            rc.x = c.x.iter().map(|&v| v as f32 as f64).collect();
            rc.probs = c.probs.as_ref().map(|q| q.iter().map(|&v| v as f32 as f64).collect());
            (1e-6, f32::MIN_POSITIVE as f64)
        } else {
            (1e-12, f64::MIN_POSITIVE)
        };
        let want = if dtype == "float32" { oracle(&rc) } else { oracle(c) };
        let (loss, lse, grad) = if dtype == "float32" { kernel::<f32>(&rc, false) } else { kernel::<f64>(&rc, false) };
        let loss_scale: Vec<f64> = want.loss.iter().map(|v| v.abs()).collect();
        // lse's error is relative to its terms (max/T and the log-sum), as for log-softmax.
        let lse_scale: Vec<f64> = want.lse.iter().map(|v| v.abs() + 1.0).collect();
        check(&format!("{name} {dtype} loss"), &loss, &want.loss, &loss_scale, rtol * 4.0, min_normal);
        check(&format!("{name} {dtype} lse"), &lse, &want.lse, &lse_scale, rtol, min_normal);
        check(&format!("{name} {dtype} grad"), &grad, &want.grad, &want.scale, rtol * 4.0, min_normal);
        let (loss2, lse2, grad2) = if dtype == "float32" { kernel::<f32>(&rc, true) } else { kernel::<f64>(&rc, true) };
        assert!(loss2.iter().zip(&loss).all(|(a, b)| a.to_bits() == b.to_bits()), "{name} {dtype}: in place changed the loss");
        assert!(lse2.iter().zip(&lse).all(|(a, b)| a.to_bits() == b.to_bits()), "{name} {dtype}: in place changed lse");
        assert!(grad2.iter().zip(&grad).all(|(a, b)| a.to_bits() == b.to_bits()), "{name} {dtype}: in place changed the gradient");
    }
    let _ = want;
}

fn base(rows: usize, cols: usize, seed: u64, lo: f64, hi: f64) -> Case {
    let mut rng = Rng(seed);
    let x = (0..rows * cols).map(|_| rng.uniform(lo, hi)).collect();
    let index = Some((0..rows).map(|_| (rng.next() * cols as f64) as i32).collect());
    Case { rows, cols, x, index, probs: None, ignore: -100, weight: None, eps: 0.0, zeta: 0.0, softcap: 0.0, t: 1.0, k: 1.0 }
}

fn with_probs(mut c: Case, seed: u64) -> Case {
    let mut rng = Rng(seed);
    let mut q = vec![0.0; c.rows * c.cols];
    for i in 0..c.rows {
        let row: Vec<f64> = (0..c.cols).map(|j| if j % 3 == 1 { 0.0 } else { rng.next() }).collect();
        let total: f64 = row.iter().sum();
        for j in 0..c.cols {
            q[i * c.cols + j] = row[j] / total;
        }
    }
    c.index = None;
    c.probs = Some(q);
    c
}

#[test]
fn every_option_and_combination_against_the_spec() {
    let mut rng = Rng(3);
    for (cols, seed) in [(1usize, 1u64), (2, 2), (3, 3), (7, 4), (64, 5), (130, 6), (1000, 7)] {
        let weights: Vec<f64> = (0..cols).map(|j| if j % 5 == 2 { 0.0 } else { rng.uniform(0.1, 3.0) }).collect();
        for variant in 0..12 {
            let mut c = base(5, cols, seed * 100 + variant, -12.0, 12.0);
            if variant & 1 == 1 {
                c.weight = Some(weights.clone());
            }
            match variant / 2 {
                0 => {}
                1 => c.eps = 0.1,
                2 => {
                    c.zeta = 1e-2;
                    c.k = 0.25;
                }
                3 => c.softcap = 5.0,
                4 => {
                    c.t = 0.7;
                    c.eps = 0.3;
                    c.zeta = 1e-3;
                    c.softcap = 8.0;
                    c.k = 3.0;
                }
                _ => c.t = 40.0,
            }
            run_case(&format!("cols {cols} variant {variant}"), &c);
            run_case(&format!("cols {cols} variant {variant} probs"), &with_probs(c.clone(), seed + variant));
        }
    }
}

#[test]
fn ignored_rows_at_the_start_middle_and_end() {
    for ignore in [-100, 3] {
        let mut c = base(6, 9, 21, -5.0, 5.0);
        c.ignore = ignore;
        let t = c.index.as_mut().unwrap();
        for (i, v) in t.iter_mut().enumerate() {
            if i == 0 || i == 2 || i == 5 {
                *v = ignore;
            } else if *v == ignore {
                *v = 4;
            }
        }
        c.eps = 0.2;
        c.zeta = 1e-3;
        let want = oracle(&c);
        run_case(&format!("ignore {ignore}"), &c);
        let (loss, lse, grad) = kernel::<f32>(&c, false);
        for i in [0, 2, 5] {
            assert_eq!(loss[i], 0.0);
            assert!(grad[i * 9..(i + 1) * 9].iter().all(|&g| g == 0.0));
            assert!((lse[i] - want.lse[i]).abs() < 1e-5, "an ignored row still has its lse");
        }
    }
}

#[test]
fn confident_rows_keep_their_relative_accuracy() {
    // p_t ≈ 1: the loss is ln(1 + r), r = Σ_{j≠t} e^(x_j − x_t), and the target's gradient
    // −r/(1 + r), both far below 1, where lse − x_t and p_t − 1 would cancel (the oracle's
    // gradient above cancels too, so these are computed here from r).
    let cols = 50;
    let mut c = base(4, cols, 31, -10.0, -5.0);
    for i in 0..4 {
        let t = c.index.as_ref().unwrap()[i] as usize;
        c.x[i * cols + t] = 12.0 + i as f64;
    }
    for dtype in ["float32", "float64"] {
        let mut rc = c.clone();
        if dtype == "float32" {
            rc.x = c.x.iter().map(|&v| v as f32 as f64).collect();
        }
        let (loss, _, grad) = if dtype == "float32" { kernel::<f32>(&rc, false) } else { kernel::<f64>(&rc, false) };
        let rtol = if dtype == "float32" { 2e-6 } else { 1e-13 };
        for i in 0..4 {
            let t = rc.index.as_ref().unwrap()[i] as usize;
            let xt = rc.x[i * cols + t];
            let r: f64 = (0..cols).filter(|&j| j != t).map(|j| (rc.x[i * cols + j] - xt).exp()).sum();
            let want_loss = r.ln_1p();
            let want_grad = -r / (1.0 + r);
            assert!(want_loss < 1e-6);
            assert!(((loss[i] - want_loss) / want_loss).abs() < rtol, "{dtype} loss {} vs {want_loss}", loss[i]);
            let g = grad[i * cols + t];
            assert!(((g - want_grad) / want_grad).abs() < rtol, "{dtype} grad_t {g} vs {want_grad}");
        }
    }
}

#[test]
fn a_large_gradient_scale_does_not_flush_small_probabilities() {
    // p_j ≈ e^-95 ≈ 5e-42, below float32's smallest normal; k = 2^40 brings k·p_j back to 6e-30.
    let mut c = base(2, 40, 41, -1.0, 1.0);
    for i in 0..2 {
        c.x[i * 40 + 7] = -95.0;
    }
    c.k = 2f64.powi(40);
    run_case("gradScale 2^40", &c);
    let (_, _, grad) = kernel::<f32>(&c, false);
    assert!(grad[7] != 0.0 && grad[47] != 0.0);
}

fn nan_row(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_nan())
}

#[test]
fn special_rows() {
    let inf = f64::INFINITY;
    let cols = 4;
    // Rows: a NaN; two +∞ (target among them); +∞ elsewhere (target finite); a −∞ target; only −∞.
    let x = vec![
        1.0, f64::NAN, 2.0, 0.0, //
        inf, 1.0, inf, -3.0, //
        inf, 1.0, 2.0, 0.0, //
        f64::NEG_INFINITY, 1.0, 2.0, 0.0, //
        f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY,
    ];
    let index = vec![0, 2, 1, 0, 1];
    for zeta in [0.0, 1e-3] {
        let c = Case { rows: 5, cols, x: x.clone(), index: Some(index.clone()), probs: None, ignore: -100, weight: None, eps: 0.0, zeta, softcap: 0.0, t: 0.5, k: 1.0 };
        for in_place in [false, true] {
            let (loss, lse, grad) = kernel::<f32>(&c, in_place);
            assert!(loss[0].is_nan() && lse[0].is_nan() && nan_row(&grad[0..4]));
            assert_eq!(lse[1], inf);
            if zeta == 0.0 {
                assert!((loss[1] - 2f64.ln()).abs() < 1e-6, "two +∞ share: loss ln 2, got {}", loss[1]);
                // p = ½ at the two infinite entries: grad = (p − onehot)/T.
                assert_eq!(&grad[4..8], &[1.0, 0.0, -1.0, 0.0]);
            } else {
                assert_eq!(loss[1], inf);
                assert_eq!(&grad[4..8], &[inf, 0.0, inf, 0.0]);
            }
            assert_eq!(loss[2], inf, "a finite target against a +∞ logit");
            assert_eq!(loss[3], inf, "a −∞ target logit");
            assert!(grad[12..16].iter().all(|g| g.is_finite()));
            assert_eq!(grad[12], -2.0, "p_t = 0: grad_t = −1/T");
            assert!(loss[4].is_nan() && lse[4] == f64::NEG_INFINITY && nan_row(&grad[16..20]));
        }
        // Smoothing with a −∞ log-probability among the classes (weight > 0): +∞, not the NaN a
        // compensated sum's carry would give (∞ − ∞).
        let mut smooth = c.clone();
        smooth.eps = 0.2;
        for in_place in [false, true] {
            let (loss, _, _) = kernel::<f32>(&smooth, in_place);
            assert_eq!(loss[1], inf, "two +∞ with smoothing: the finite classes have log p = −∞");
            assert_eq!(loss[3], inf);
            let (loss, _, _) = kernel::<f64>(&smooth, in_place);
            assert_eq!(loss[1], inf);
            assert_eq!(loss[3], inf);
        }
        // A softcap makes every non-NaN logit finite: the +∞ rows are ordinary rows then.
        let mut capped = c.clone();
        capped.softcap = 3.0;
        capped.x[1] = 0.5;
        let (loss, lse, _) = kernel::<f64>(&capped, false);
        assert!(loss.iter().chain(&lse).all(|v| v.is_finite()));
    }
}

#[test]
fn long_rows() {
    let mut c = base(2, 100_000, 51, -30.0, 30.0);
    c.eps = 0.05;
    c.zeta = 1e-4;
    run_case("2 × 100,000", &c);
}


