//! Summation that stays accurate on 1,000,000-element rows.
//!
//! The kernels add short blocks (at most 64 terms, four or more independent accumulators) and
//! hand each block's total to a `BlockSum`, which adds the block totals in float64 with Neumaier's
//! compensation. The error of a row sum is then bounded by the error of one block (a few roundings
//! of the block's own precision) however long the row is.

#[derive(Clone, Copy, Default)]
pub struct BlockSum {
    sum: f64,
    carry: f64,
}

impl BlockSum {
    #[inline(always)]
    pub fn add(&mut self, v: f64) {
        let t = self.sum + v;
        self.carry += if self.sum.abs() >= v.abs() { (self.sum - t) + v } else { (v - t) + self.sum };
        self.sum = t;
    }

    #[inline(always)]
    pub fn total(&self) -> f64 {
        self.sum + self.carry
    }
}

/// Adds `f(j)` for j in 0..n in float64, 4 accumulators per 64-term block, blocks compensated.
#[inline(always)]
pub fn sum_f64(n: usize, mut f: impl FnMut(usize) -> f64) -> f64 {
    let mut total = BlockSum::default();
    let mut j = 0;
    while j + 64 <= n {
        let (mut a0, mut a1, mut a2, mut a3) = (0.0, 0.0, 0.0, 0.0);
        let end = j + 64;
        while j < end {
            a0 += f(j);
            a1 += f(j + 1);
            a2 += f(j + 2);
            a3 += f(j + 3);
            j += 4;
        }
        total.add((a0 + a1) + (a2 + a3));
    }
    let mut a = 0.0;
    while j < n {
        a += f(j);
        j += 1;
    }
    total.add(a);
    total.total()
}
