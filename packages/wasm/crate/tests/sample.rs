//! The sample kernel (scalar build, native) against a direct float64 implementation of the rules
//! with a full sort (@softmax/core's reference-sample.ts, restated): top-k, top-p, min-p and the
//! draw on random rows with ties, for both element types. Draws within 1e-9 of a boundary are
//! skipped (float64 rows: the kernel's sums round otherwise than this file's).

use softmax_wasm::sample::{sample_rows, scratch_bytes, Out, HEADER, TABLE};

fn lcg(s: &mut u64) -> f64 {
    *s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (*s >> 11) as f64 / (1u64 << 53) as f64
}

/// The token for u and how close u is to a boundary of its interval, or None for greedy.
fn reference(x: &[f64], t: f64, k: usize, p: f64, min_p: f64, u: f64) -> (i32, f64) {
    let n = x.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| x[b].partial_cmp(&x[a]).unwrap().then(a.cmp(&b)));
    let max = x[order[0]];
    if t == 0.0 {
        return (order[0] as i32, f64::INFINITY);
    }
    let mut nk = n;
    if k > 0 && k < n {
        let v = x[order[k - 1]];
        nk = k;
        while nk < n && x[order[nk]] == v {
            nk += 1;
        }
    }
    let w: Vec<f64> = order[..nk].iter().map(|&j| ((x[j] - max) / t).exp()).collect();
    let mut np = nk;
    if p < 1.0 {
        let total: f64 = w.iter().sum();
        let mut cum = 0.0;
        let mut i = 0;
        while i < nk {
            let v = x[order[i]];
            while i < nk && x[order[i]] == v {
                cum += w[i];
                i += 1;
            }
            if cum >= p * total {
                np = i;
                break;
            }
        }
    }
    let mut kept: Vec<(usize, f64)> = (0..np).filter(|&i| w[i] >= min_p).map(|i| (order[i], w[i])).collect();
    kept.sort_by_key(|e| e.0);
    let total: f64 = kept.iter().map(|e| e.1).sum();
    let target = u * total;
    let mut cum = 0.0;
    for (m, &(j, wj)) in kept.iter().enumerate() {
        if m + 1 == kept.len() || cum + wj > target {
            let margin = (u - cum / total).min((cum + wj) / total - u);
            return (j as i32, margin);
        }
        cum += wj;
    }
    unreachable!()
}

fn run<E: softmax_wasm::sample::Float>(x: &[E], settings: [f64; 4], u: f64) -> i32 {
    let cols = x.len();
    let slot = scratch_bytes(cols, core::mem::size_of::<E>());
    let mut scratch = vec![0u128; (HEADER + slot) / 16 + 1];
    let block = scratch.as_mut_ptr() as *mut u8;
    unsafe { *(block as *mut u32) = 1 };
    let mut table = [0f64; TABLE];
    table[..4].copy_from_slice(&settings);
    table[4] = 1.0;
    table[7] = u;
    let mut token = 0i32;
    let out = Out { token: &mut token, logprob: core::ptr::null_mut(), top_ids: core::ptr::null_mut(), top_lps: core::ptr::null_mut(), top_n: 0 };
    unsafe { sample_rows::<E>(x.as_ptr(), out, table.as_ptr(), core::ptr::null(), core::ptr::null(), 0, block, 1, cols) };
    token
}

#[test]
fn tokens_match_a_full_sort() {
    let mut s = 5u64;
    let mut checked = 0;
    for &cols in &[7usize, 100, 3000, 20000] {
        for &levels in &[4.0f64, 1e6] {
            let row: Vec<f64> = (0..cols).map(|_| ((lcg(&mut s) * levels).floor() / levels * 12.0 - 6.0) as f32 as f64).collect();
            for settings in [[1.0, 0.0, 0.95, 0.0], [0.7, 50.0, 0.9, 0.0], [1.3, 0.0, 1.0, 0.05], [0.0, 0.0, 1.0, 0.0], [2.0, 3000.0, 0.6, 0.01], [0.5, 0.0, 0.3, 0.0]] {
                for _ in 0..8 {
                    let u = (lcg(&mut s) * 16777216.0).floor() / 16777216.0;
                    let (want, margin) = reference(&row, settings[0], settings[1] as usize, settings[2], settings[3], u);
                    let got64 = run::<f64>(&row, settings, u);
                    if margin > 1e-9 {
                        assert_eq!(got64, want, "f64 cols {cols} levels {levels} {settings:?} u {u}");
                        checked += 1;
                    }
                    let row32: Vec<f32> = row.iter().map(|&v| v as f32).collect();
                    let got32 = run::<f32>(&row32, settings, u);
                    if margin > 1e-5 {
                        assert_eq!(got32, want, "f32 cols {cols} levels {levels} {settings:?} u {u}");
                    }
                }
            }
        }
    }
    assert!(checked > 300, "only {checked} draws far enough from a boundary");
}
