// (x − m) / T for every finite T > 0 (the caller's float64 T, far past float32's range both ways),
// by temperature class (TEMP, a pipeline constant):
//   0: T = 1.
//   1: 2^-64 ≤ T ≤ 2^64: T, ln 2·T and 1/T are ordinary float32 numbers, and what hardware may
//      flush (subnormal inputs, the low part of an exact difference: under 2^-126) moves t by
//      at most 2^-62.
//   2: T > 2^64 and 3: T < 2^-64: T = τ·2^p with τ in (1/2, 1] (P.temp), and the kernels work
//      on D = (x − m)·2^-p, exactly, so t = D/τ. Powers of two are exact unless they overflow or
//      flush, and each step below overflows (or flushes) only when the result does: τ ≤ 1 makes
//      |t| ≥ |D|, so a D past float32's range means a t past it too (−Inf, exp 0).

const TWO_64: f32 = 0x1p64f;
const TWO_M85: f32 = 0x1p-85f;
const TWO_M40: f32 = 0x1p-40f;

// v·2^-p (class 2) or v·2^(-p-64) (class 3) in three steps that all scale the same way, so no step
// overflows or flushes unless the product does. hide() keeps compilers from multiplying the
// factors together first (their product alone may leave float32's range).
fn temp_scale(v: V) -> V {
  return hide(hide(v * V(P.scale0)) * V(P.scale1)) * V(P.scale2);
}

// 1, or 1/4 when x − m is huge: it may overflow to −Inf although (x − m)/T is finite (x and m
// huge, of opposite signs). Scaling by 1/4 is exact for x and m ≥ 2^-124 (smaller ones only lose
// bits far below the ulp of a difference past 1e38). Overflow is detected by bit pattern: WGSL
// may assume floats are finite. x = −Inf keeps s = 1 so that it stays −Inf.
fn overflow_scale(x: V, m: V) -> V {
  let d = x - m;
  let huge = (d < V(-1e38)) | (bitcast<VU>(d) == VU(NEG_INF_BITS));
  return select(V(1.0), V(0.25), huge & (bitcast<VU>(x) != VU(NEG_INF_BITS)));
}

// v·2^64 exactly, subnormals included: hardware may flush them to zero in any arithmetic, so one
// is decoded from its bits (±mantissa·2^-149, the mantissa exact as a float32).
fn times_2_64(v: V) -> V {
  let b = bitcast<VU>(v);
  let mant = V(b & VU(0x007fffffu)) * V(TWO_M85);
  let sub = select(mant, -mant, (b & VU(0x80000000u)) != VU(0u));
  return select(v * V(TWO_64), sub, (b & VU(POS_INF_BITS)) == VU(0u));
}

// The exact difference the kernels divide by temp: x − m (classes 0–1) or D = (x − m)·2^-p.
fn diff_t(x: V, m: V) -> Pair {
  if (TEMP == 2u) {
    // In units of s (see overflow_scale), then scaled down: 2^-p ≤ 2^-65.
    let s = overflow_scale(x, m);
    let d = two_diff(x * s, m * s);
    let back = V(1.0) / s; // 1 or 4, exact
    return Pair(temp_scale(d.hi) * back, temp_scale(d.lo) * back);
  }
  if (TEMP == 3u) {
    // Scaled up. Only entries with |x − m| ≤ 88·T < 2^-57 have exp(t) above 2^-126. When
    // |m| ≥ 2^-40 those lie within a factor 2 of m, so x − m is exact (Sterbenz) and the rest
    // only needs its relative accuracy; when m is small, x and m are scaled by 2^64 first
    // (subnormals decoded), so the difference and its low part stay exact whatever hardware
    // flushes. x·2^64 overflowing there means x < −2^64: t < −2^128 indeed.
    if (abs(first(m)) < TWO_M40) {
      let d = two_diff(times_2_64(x), times_2_64(m));
      return Pair(temp_scale(d.hi), temp_scale(d.lo));
    }
    let d = two_diff(x, m);
    return Pair(temp_scale(d.hi * V(TWO_64)), temp_scale(d.lo * V(TWO_64)));
  }
  return two_diff(x, m);
}

// exp((x − m) / T) for x ≤ m without rounding (x − m) / T first: that rounding would cost
// |t|·2^-24 of relative accuracy (1e-6 already at t = −17). Instead k = round(t·log2 e) and
// r·τ = D − k·ln2·τ is formed exactly: D as an exact pair, ln2·τ as LN2T_HI + LN2T_LO with
// LN2T_HI of 15 significant bits so k·LN2T_HI is exact (|k| ≤ 126), and the subtraction exact by
// Sterbenz. Only then is r divided by τ, an error relative to r.
// Results below 2^-126 (t < −87.34) are flushed to zero, within the contract's 2^-126 atol, so
// 2^k (−126 ≤ k ≤ 0) is built from its exponent bits in one step. A q of −Inf (D or d/T past
// float32's range) takes k = −126 and the final select's 0, whatever r becomes.
fn exp_scaled(x: V, m: V) -> V {
  let d = diff_t(x, m);
  var q = d.hi;
  if (TEMP != 0u) {
    q = d.hi / V(P.temp);
  }
  // k = round(t·log2 e) by adding 1.5·2^23: the sum's low mantissa bits are then k itself (round
  // to nearest even, as round() does), read as an integer; 2^k's exponent field is
  // (bits + 127) << 23 (the bits of 1.5·2^23 above bit 8 shift out). Cheaper than round() on
  // SwiftShader. (kb − 1.5·2^23 in float would be folded back to the unrounded sum by compilers.)
  let kb = bitcast<VU>(max(q * V(1.4426950408889634), V(-126.0)) + V(12582912.0));
  let k = V(bitcast<VI>(kb - VU(0x4b400000u)));
  var r = ((d.hi - k * V(P.ln2THi)) - k * V(P.ln2TLo)) + d.lo;
  if (TEMP != 0u) {
    r = r / V(P.temp);
  }
  let two_k = bitcast<V>((kb + VU(127u)) << VU(23u));
  return select(exp_poly(r) * two_k, V(0.0), q < V(-87.34));
}

// (x − m) / T to within a few ulp of its own size (log-softmax adds it to −log(sum), and both
// are ≤ 0, so no cancellation magnifies this error). Classes 0–1 form it in units of s (see
// overflow_scale) and scale back last, which overflows only when the true result does.
// −Inf (x = −Inf, or a quotient past float32's range) stays −Inf rather than −Inf + NaN from the
// error term.
fn scaled_diff(x: V, m: V) -> V {
  var s = V(1.0);
  var d: Pair;
  if (TEMP >= 2u) {
    d = diff_t(x, m);
  } else {
    s = overflow_scale(x, m);
    d = two_diff(x * s, m * s);
  }
  var hi = d.hi;
  var lo = d.lo;
  if (TEMP != 0u) {
    hi = d.hi / V(P.temp);
    lo = d.lo / V(P.temp);
  }
  return select((hi + lo) / s, hi, bitcast<VU>(hi) == VU(NEG_INF_BITS));
}

// v / T for one value (the max a log-sum-exp adds back), to within an ulp or two of its own size
// and overflowing or flushing only when v / T does: class 2 scales down before dividing by τ
// (v / τ alone may overflow, τ ≤ 1), class 3 takes v·2^64 (subnormals decoded) first.
fn over_t(v: f32) -> f32 {
  if (TEMP == 0u) {
    return v;
  }
  if (TEMP == 2u) {
    return first(temp_scale(V(v))) / P.temp;
  }
  if (TEMP == 3u) {
    return first(temp_scale(times_2_64(V(v)) / V(P.temp)));
  }
  return v / P.temp;
}

// v / T for a gradient term v, in every class, overflowing or flushing only when v / T does (classes
// 2–3 scale by 2^-p in steps; softmaxBackward folds class 3's 2^64 into y instead).
fn scale_temp(v: V) -> V {
  if (TEMP == 1u) {
    return v * V(P.invTemp);
  }
  if (TEMP == 2u) {
    return temp_scale(v * V(P.invTemp)); // 1/T = (1/τ)·2^-p, scaled down
  }
  if (TEMP == 3u) {
    return temp_scale((v * V(P.invTemp)) * V(TWO_64));
  }
  return v;
}
