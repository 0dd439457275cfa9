// Row statistics, for any kernel: the max of a row or segment, the sum of exp((x − max) / T)
// relative to it, compensated sums, the merge of a split row's partials, and the log-sum-exp
// of a row. Kernels bind their own arrays and do their own loads, so these functions take
// values: per lane,
//   var mx = max_start();        max_add(&mx, x);       let mkey = unit_max_key(mx, ids);
//   var es = exp_start(mkey);    exp_add(&es, x);       let st = unit_exp_stats(es, ids);
// The unit_* functions reduce over the unit's threads: every thread of the workgroup calls them
// (subgroup operations and barriers need uniform control flow), with no lanes when its unit is
// past the end.

// Partials of split rows, one per (row, segment) of the chunk.
@group(0) @binding(3) var<storage, read_write> parts: array<Partial>;

struct Partial {
  mkey: u32, // ordered key of the segment's max (NaN → 0xffffffff)
  cnt: u32,  // entries equal to that max (backward: 1 when a product had a subnormal factor)
  rest: f32, // sum of exp((x − max) / T) over the other entries (backward: the segment's dot)
  pad: u32,
}

// Of a row or segment: its max (as a key), the entries equal to it, and the sum of exp((x − max) / T)
// over the others.
struct Stats { mkey: u32, cnt: u32, rest: f32 }

// Kahan summation per lane: a segment holds up to thousands of terms per thread.
struct Kahan { sum: V, comp: V }

fn kahan_add(acc: ptr<function, Kahan>, v: V) {
  let y = v - (*acc).comp;
  let t = hide((*acc).sum + y);
  (*acc).comp = (t - (*acc).sum) - y;
  (*acc).sum = t;
}

// The same for one f32 sum.
struct Kahan1 { sum: f32, comp: f32 }

fn kahan_add1(acc: ptr<function, Kahan1>, v: f32) {
  let y = v - (*acc).comp;
  let t = hide1((*acc).sum + y);
  (*acc).comp = (t - (*acc).sum) - y;
  (*acc).sum = t;
}

// A per-lane compensated sum over the unit's threads, with a count beside it (e.g. flags).
fn unit_sum(cnt: u32, acc: Kahan, ids: Ids) -> CountSum {
  return group_sum2(cnt, hsum(acc.sum - acc.comp), ids);
}

// max() is exact for ±Inf (of ±0 it may give either: both count as the max below); NaN, which
// max() need not propagate, is found apart from the largest magnitude bits. Classes 2–3 take
// ordered keys instead, exact for subnormals, which hardware may flush in float max and
// comparisons: with T below 2^-64 they are whole units of t (class 2 takes the same path: it is
// rare).
struct MaxAcc { mx: V, mag: VU, kmax: VU }

fn max_start() -> MaxAcc {
  return MaxAcc(neg_inf_v(), VU(0u), VU(NEG_INF_KEY));
}

fn max_add(acc: ptr<function, MaxAcc>, x: V) {
  if (TEMP >= 2u) {
    (*acc).kmax = max((*acc).kmax, key_of(x));
  } else {
    (*acc).mx = max((*acc).mx, x);
    (*acc).mag = max((*acc).mag, bitcast<VU>(x) & VU(0x7fffffffu));
  }
}

// The unit's max as an ordered key (for the reduction and the partials).
fn unit_max_key(acc: MaxAcc, ids: Ids) -> u32 {
  var own_key = hmax_u(acc.kmax);
  if (TEMP < 2u) {
    own_key = select(hmax_u(key_of(V(hmax(acc.mx)))), NAN_KEY, hmax_u(acc.mag) > POS_INF_BITS);
  }
  return group_max_u(own_key, ids);
}

struct ExpAcc { mkey: u32, m: V, mbits: VU, cnt: VU, sum: Kahan1 }

fn exp_start(mkey: u32) -> ExpAcc {
  let m = V(from_key(mkey));
  return ExpAcc(mkey, m, VU(bitcast<u32>(first(m))), VU(0u), Kahan1(0.0, 0.0));
}

// Counts x when it equals the max, else adds exp((x − max) / T); returns what it took (1 at the
// max), which softmax keeps for its write pass. The float comparison makes ±0 equal, the bit
// comparison keeps +Inf exact even where a compiler assumes finite floats (classes 2–3 compare
// keys, which fold −0 onto +0). Terms are taken only when the max is finite and x is neither
// the max nor −Inf; otherwise the statistics' users do not read them.
struct ExpTerm { eq: VB, term: V }

fn exp_term(acc: ExpAcc, x: V) -> ExpTerm {
  let xb = bitcast<VU>(x);
  var eq = (x == acc.m) | (xb == acc.mbits);
  if (TEMP >= 2u) {
    eq = key_of(x) == VU(acc.mkey);
  }
  let term = select(V(0.0), exp_scaled(x, acc.m), !eq & (xb != VU(NEG_INF_BITS)));
  return ExpTerm(eq, term);
}

fn exp_add(acc: ptr<function, ExpAcc>, x: V) -> V {
  let et = exp_term(*acc, x);
  (*acc).cnt += select(VU(0u), VU(1u), et.eq);
  // The lanes are added first: positive terms, so this costs at most 2^-23 of the sum.
  kahan_add1(&(*acc).sum, hsum(et.term));
  return select(et.term, V(1.0), et.eq);
}

// What exp_add returns for x, without adding it: a second pass recomputes it instead of storing it.
fn exp_kept(acc: ExpAcc, x: V) -> V {
  let et = exp_term(acc, x);
  return select(et.term, V(1.0), et.eq);
}

fn unit_exp_stats(acc: ExpAcc, ids: Ids) -> Stats {
  let cs = group_sum2(hsum_u(acc.cnt), acc.sum.sum - acc.sum.comp, ids);
  return Stats(acc.mkey, cs.cnt, cs.sum);
}

// A segment's statistics, kept for the merge (by its unit's first thread).
fn put_partial(u: Unit, st: Stats) {
  if (u.valid && u.lane == 0u) {
    parts[u.row * P.segs + u.seg] = Partial(st.mkey, st.cnt, st.rest, 0u);
  }
}

// A row's statistics from its segments' partials (the first at `first_part`): segments whose
// max is below the row's are rescaled by exp((m_s − M) / T), one rounding step per segment (no
// compounding as in a streaming merge).
fn merge_partials(first_part: u32) -> Stats {
  var mkey = 0u;
  for (var s = 0u; s < P.segs; s++) {
    mkey = max(mkey, parts[first_part + s].mkey);
  }
  let mv = V(from_key(mkey));
  var cnt = 0u;
  var acc = Kahan1(0.0, 0.0);
  for (var s = 0u; s < P.segs; s++) {
    let p = parts[first_part + s];
    var add = 0.0;
    if (p.mkey == mkey) {
      cnt += p.cnt;
      add = p.rest;
    } else if (is_finite_key(p.mkey) && is_finite_key(mkey)) {
      add = (f32(p.cnt) + p.rest) * first(exp_scaled(V(from_key(p.mkey)), mv));
    }
    kahan_add1(&acc, add);
  }
  return Stats(mkey, cnt, acc.sum - acc.comp);
}

// The compensated sum of the `rest` of a row's partials (the gradients' dot products).
fn sum_partials(first_part: u32) -> f32 {
  var acc = Kahan1(0.0, 0.0);
  for (var s = 0u; s < P.segs; s++) {
    kahan_add1(&acc, parts[first_part + s].rest);
  }
  return acc.sum - acc.comp;
}

// log(a + b) for a ≥ 1 (a count, exact) and b ≥ 0, to a few ulp. With a = 1 and small b it is
// log1p(b) from b itself, so log-softmax keeps full relative accuracy when the max dominates.
// WGSL's log only promises an absolute 2^-21 near 1, which is far too coarse there.
fn log_sum(a: f32, b: f32) -> f32 {
  var f: f32;
  var e: f32;
  if (a == 1.0 && b < 0.41421356) {
    f = b;
    e = 0.0;
  } else {
    let fr = frexp(a + b);
    var m = fr.fract;
    var ex = fr.exp;
    if (m < 0.70710678) {
      m = m * 2.0;
      ex = ex - 1;
    }
    f = m - 1.0; // exact (Sterbenz)
    e = f32(ex);
  }
  // log(1 + f) = 2·atanh(s), s = f / (2 + f), |s| ≤ 0.1716: the series to s^11 is exact to 1e-10.
  let s = f / (2.0 + f);
  let z = s * s;
  var q = 1.0 / 11.0;
  q = q * z + 1.0 / 9.0;
  q = q * z + 1.0 / 7.0;
  q = q * z + 1.0 / 5.0;
  q = q * z + 1.0 / 3.0;
  let lg = 2.0 * s + 2.0 * s * (z * q);
  return e * 0.693359375 + (e * -2.12194440e-4 + lg);
}

// log Σ exp(x / T) of a row from its statistics, by @softmax/core's rules: NaN for a row with a
// NaN, +Inf when an entry is +Inf, −Inf when every entry is −Inf (an empty sum); else
// max/T + log(count + rest), which is max/T + log1p(rest) when the max is alone, so a dominant
// logit keeps full accuracy. Those three keys decode to NaN, +Inf and −Inf by their bits.
fn log_sum_exp(st: Stats) -> f32 {
  if (is_nan_key(st.mkey)) {
    return first(nan_v());
  }
  if (st.mkey == POS_INF_KEY || st.mkey == NEG_INF_KEY) {
    return from_key(st.mkey);
  }
  return over_t(from_key(st.mkey)) + log_sum(f32(st.cnt), st.rest);
}
