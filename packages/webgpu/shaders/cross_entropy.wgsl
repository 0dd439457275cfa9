// crossEntropy (CE-SPEC.md): per row its loss, its log-sum-exp and, when asked, the gradient
// grad_j = k·((A + 2ζ·lse)·p_j − b_j)·∂s_j/∂x_j, over s = softcap(x) / T, with no rows × cols
// intermediate. Pass 1 finds the row's max, pass 2 (row_stats.wgsl) the count at it and the sum
// of exp relative to it, plus what the loss needs beside them; the gradient pass writes the row.
// A row is one unit (ce_fused), or a long row's segments keep two partial records each
// (ce_partial) that ce_write merges. ce_norm computes k = g / D on the GPU for GPU-resident
// 'mean' calls, whose targets never reach the host.
//
// The loss is a sum of terms ≥ 0, so it never cancels: with ls = log(count + rest) ≥ 0 and
// d_c = (z_c − max)/T ≤ 0, −logp_c = ls − d_c, and (index targets, ω = w_t, W = Σ w_c)
//   CE = (1−ε)ω·(ls − d_t) + Σ_c a_c·(ls − d_c),  a_c = (ε/C)·w_c,
// probabilities: CE = Σ_c a_c·(ls − d_c) with a_c = w_c·((1−ε)·q_c + ε/C). A coefficient 0 adds
// 0, even at d = −Infinity; each term carries its own coefficient, so a sum of C terms cannot
// overflow where the loss does not.

@group(0) @binding(0) var<storage, read_write> xs: array<V>; // logits (GRAD = 2: the gradient over them)
@group(0) @binding(1) var<storage, read> qs: array<V>; // probability targets (PROBS)
@group(0) @binding(2) var<storage, read_write> dst: array<V>; // the gradient (GRAD = 1)
@group(0) @binding(4) var<uniform> P: Params;
@group(0) @binding(5) var<uniform> C: CeParams; // the same block, with its cross-entropy words
@group(0) @binding(6) var<storage, read> tgt: array<u32>; // class indices (not PROBS), as their bits
@group(0) @binding(7) var<storage, read> wts: array<V>; // class weights (WEIGHTS), in lanes as the rows
@group(0) @binding(8) var<storage, read_write> losses: array<f32>; // one per row
@group(0) @binding(9) var<storage, read_write> lses: array<f32>; // one per row

override PROBS: bool = false; // probability targets (else class indices)
override WEIGHTS: bool = false; // class weights (else all 1)
override SMOOTH: bool = false; // ε > 0 with class indices (probabilities fold ε into q')
override SOFTCAP: bool = false;
override GRAD: u32 = 0u; // 0: no gradient, 1: into dst, 2: over the logits (in place)
// Pass 2 keeps exp((z − max)/T) where the gradient goes, so the gradient pass does not evaluate exp
// again (as softmax does); a softcapped row recomputes instead, since it needs x again for ∂z/∂x.
override STORE: bool = GRAD != 0u && !SOFTCAP;

struct CeParams {
  head: Params,
  eps1: f32, // 1 − ε
  epsC: f32, // ε / C
  zeta: f32, // ζ
  kHost: f32, // k, unless K_FROM_PARTS
  capInv: f32, // softcap c = cm·2^e, cm in [1, 2): fl(1/cm)
  capHi: f32, // cm = capHi + capLo, capHi of 12 significant bits
  capLo: f32,
  capDn0: f32, // 2^-e in two steps
  capDn1: f32,
  capUp0: f32, // 2^e in two steps
  capUp1: f32,
  ignore: u32, // ignoreIndex as the targets' bits (when HAS_IGNORE)
  flags: u32,
  scaleAt: u32, // the record of parts that holds k (and D)
  cols: u32, // C, in elements
  gradScale: f32, // g, which ce_norm divides by D
  rowsAll: u32, // rows of the whole call (ce_norm)
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

const HAS_IGNORE: u32 = 1u; // ignoreIndex is a value the targets' type can hold
const K_FROM_PARTS: u32 = 2u; // k is parts[scaleAt].rest (the array call's, or ce_norm's), not kHost

// ---- softcap: z = c·tanh(x / c) and ∂z/∂x = sech²(x / c) -----------------------------------------

const TWO_M12_BITS: u32 = 0x39800000u; // 2^-12: below it tanh(u) = u to within 2^-25, so z = x
const CAP_CLAMP_BITS: u32 = 0x42ae0000u; // 87: past it tanh(u) = 1 and sech²(u) < 2^-249 (taken as 0)

struct Capped {
  z: V,
  // sech²(u) = dsA·dsB: dsA a normal number (or 0), dsB the rest of its power of two (1 unless
  // |u| > 43.6), applied after the temperature so that a small T can still lift the product.
  dsA: V,
  dsB: V,
}

// u = x / c is formed as a hi + lo pair: sech²(u) has a relative slope of 2·tanh(u), so the 2^-24
// rounding of x / c alone would cost 2|u|·2^-24 of relative accuracy in ∂z/∂x (5e-6 at |u| = 20).
// hi is split into two 12-bit halves by its bits; their products by capHi (12 bits) are exact, and
// the subtractions exact by Sterbenz, so x − hi·c is exact but for hi·capLo's rounding.
// tanh(|u|) = −m / (2 + m) with m = expm1(−2|u|) and sech²(u) = 4e / (1 + e)², e = exp(−2|u|),
// both without cancellation; e = e^r·2^k by Cody–Waite (as exp_times in backward.wgsl).
fn softcap(x: V) -> Capped {
  let xd = hide(x * V(C.capDn0)) * V(C.capDn1); // x·2^-e, exact unless u is past tanh's range anyway
  let hi = xd * V(C.capInv);
  let ub = bitcast<VU>(hi);
  let ab = ub & VU(0x7fffffffu);
  let head = bitcast<V>(ub & VU(0xfffff000u));
  let tail = hi - head;
  let res = ((xd - hide(head * V(C.capHi))) - hide(tail * V(C.capHi))) - hi * V(C.capLo);
  // ±Inf and NaN (and |u| ≥ 87) are clamped by their bits: tanh is 1 there (NaN is restored below).
  let big = ab >= VU(CAP_CLAMP_BITS);
  let a = bitcast<V>(min(ab, VU(CAP_CLAMP_BITS)));
  let negative = (ub & VU(0x80000000u)) != VU(0u);
  let lo = res * V(C.capInv);
  let a_lo = select(select(lo, -lo, negative), V(0.0), big);
  let y = V(-2.0) * a;
  let k = round(y * V(1.4426950408889634));
  // y − k·ln2_hi is exact (k·0.693359375 has at most 16 bits, and the difference is below ln 2).
  let r = ((y - k * V(0.693359375)) - k * V(-2.12194440e-4)) - V(2.0) * a_lo;
  let ki = VI(k);
  let k1 = max(ki, VI(-126));
  let two_k1 = bitcast<V>(bitcast<VU>(k1 + VI(127)) << VU(23u));
  let two_k2 = bitcast<V>(bitcast<VU>(ki - k1 + VI(127)) << VU(23u));
  let ep = exp_poly(r);
  let e = (ep * two_k1) * two_k2; // may flush: then 1 + e = 1 and tanh = 1, as they are
  // expm1(−2|u|) = 2^k·(e^r − 1) + (2^k − 1): exact steps for k ≥ −2; below, e − 1 does not cancel.
  let m = select(e - V(1.0), expm1_poly(r) * two_k1 + (two_k1 - V(1.0)), ki >= VI(-2));
  let t = -m / (V(2.0) + m);
  let ope = V(1.0) + e;
  let dsA = select((V(4.0) * ep * two_k1) / (ope * ope), V(0.0), big);
  let tc = t * V(C.capHi) + t * V(C.capLo);
  var z = hide(select(tc, -tc, negative) * V(C.capUp0)) * V(C.capUp1);
  z = select(z, x, ab < VU(TWO_M12_BITS));
  z = select(z, x, (bitcast<VU>(x) & VU(0x7fffffffu)) > VU(POS_INF_BITS));
  return Capped(z, dsA, two_k2);
}

fn logit(x: V) -> V {
  if (SOFTCAP) {
    return softcap(x).z;
  }
  return x;
}

// ---- the row's scan: passes 1 and 2 ----------------------------------------------------------------

fn key1(v: f32) -> u32 {
  return hmax_u(key_of(V(v)));
}

fn inf1() -> f32 {
  return first(from_bits(POS_INF_BITS));
}

// What the loss needs beside the statistics: Σ a_c·(−d_c) and Σ a_c (index targets: only with
// ε > 0). Terms of +Infinity are counted apart (`infs`): Kahan's compensation turns an infinite
// term into NaN.
struct Sums { neg: f32, coef: f32, infs: u32 }

struct SumAcc { neg: Kahan, coef: Kahan, infs: VU }

// a_c at lanes i of a row: w_c·q'_c (probabilities) or (ε/C)·w_c (idx: the same lanes in the bound arrays).
fn coef_at(idx: u32, i: u32) -> V {
  var w = V(1.0);
  if (WEIGHTS) {
    w = wts[i];
  }
  if (PROBS) {
    return w * (V(C.eps1) * qs[idx] + V(C.epsC));
  }
  return V(C.epsC) * w;
}

// a·(−d) for a coefficient a ≥ 0 and d = (z − m)/T ≤ 0, overflowing only where the product does:
// for huge values of opposite signs z − m itself overflows while a·(z − m)/T need not (a < 1), so
// there d is formed in units of 1/4 (overflow_scale: both scaled exactly) and scaled back last.
fn neg_diff_times(a: V, z: V, m: V) -> V {
  let s = overflow_scale(z, m);
  return (a * -scaled_diff(z * s, m * s)) * select(V(1.0), V(4.0), s != V(1.0));
}

// a·(−d) at lanes of z, exactly 0 at the max (k +Infinity entries included).
fn neg_term(a: V, z: V, es: ExpAcc) -> V {
  return select(neg_diff_times(a, z, es.m), V(0.0), bitcast<VU>(z) == es.mbits);
}

fn sum_add(acc: ptr<function, SumAcc>, a: V, t: V) {
  kahan_add(&(*acc).coef, a);
  let inf = bitcast<VU>(t) == VU(POS_INF_BITS);
  (*acc).infs += select(VU(0u), VU(1u), inf);
  kahan_add(&(*acc).neg, select(t, V(0.0), inf | (a == V(0.0))));
}

struct Scan {
  st: Stats,
  sums: Sums,
  tkey: u32, // ordered key of the target's z (0 where no thread of the unit holds it)
  t: u32, // the row's target, as its bits
}

fn target_of(u: Unit) -> u32 {
  if (PROBS || !u.valid) {
    return 0u;
  }
  return tgt[P.rowsBase + u.row];
}

fn scan(u: Unit, ids: Ids) -> Scan {
  let t = target_of(u);
  // The target's logit is read by the one thread whose lanes hold it, before that thread writes
  // anything over them (in place), and shared through the reduction: no other thread reads it.
  var own = 0u;
  let tv = t / VL;
  if (!PROBS && t < C.cols && tv >= u.start && tv < u.end && (tv - u.start) % G == u.lane) {
    own = key1(lane_of(logit(xs[u.rowBase + tv]), t % VL));
  }
  var mx = max_start();
  for (var i = u.start + u.lane; i < u.end; i += G) {
    max_add(&mx, xs[u.rowBase + i]);
  }
  var mkey = unit_max_key(mx, ids);
  var tkey = 0u;
  if (!PROBS) {
    tkey = group_max_u(own, ids);
  }
  // softcap is increasing: the max of z is softcap of the max of x (NaN stays NaN).
  if (SOFTCAP && !is_nan_key(mkey)) {
    mkey = key1(first(softcap(V(from_key(mkey))).z));
  }
  var es = exp_start(mkey);
  var acc = SumAcc(Kahan(V(0.0), V(0.0)), Kahan(V(0.0), V(0.0)), VU(0u));
  for (var i = u.start + u.lane; i < u.end; i += G) {
    let idx = u.rowBase + i;
    let z = logit(xs[idx]);
    let kept = exp_add(&es, z);
    if (STORE) {
      put_grad(idx, kept);
    }
    if (PROBS || SMOOTH) {
      let a = coef_at(idx, i);
      sum_add(&acc, a, neg_term(a, z, es));
    }
  }
  let st = unit_exp_stats(es, ids);
  var sums = Sums(0.0, 0.0, 0u);
  if (PROBS || SMOOTH) {
    let neg = unit_sum(hsum_u(acc.infs), acc.neg, ids);
    let coef = unit_sum(0u, acc.coef, ids);
    sums = Sums(neg.sum, coef.sum, neg.cnt);
  }
  return Scan(st, sums, tkey, t);
}

// ---- the row's results ---------------------------------------------------------------------------

const NORMAL: u32 = 0u;
const FILL_ZERO: u32 = 1u; // an ignored row
const FILL_NAN: u32 = 2u;
const GUARDED: u32 = 3u; // k +Infinity entries with ζ > 0: A + 2ζ·lse is +Infinity, and 0·Infinity must count 0

struct RowResult {
  loss: f32,
  lse: f32,
  mode: u32,
  fk: f32, // k·(A + 2ζ·lse)/S: grad_j·T = e_j·fk − b_j·k
  btk: f32, // k·(1−ε)·ω, at the target
  k: f32,
}

fn row_result(sc: Scan) -> RowResult {
  let st = sc.st;
  let lse = log_sum_exp(st);
  if (!PROBS && (C.flags & HAS_IGNORE) != 0u && sc.t == C.ignore) {
    return RowResult(0.0, lse, FILL_ZERO, 0.0, 0.0, 0.0);
  }
  // A NaN, a row of only −Infinity (log-softmax is NaN there), or a target outside [0, C) (only a
  // GPU-resident call gets here with one: it cannot throw).
  if (is_nan_key(st.mkey) || st.mkey == NEG_INF_KEY || (!PROBS && sc.t >= C.cols)) {
    let nan = first(nan_v());
    return RowResult(nan, lse, FILL_NAN, 0.0, 0.0, 0.0);
  }
  // p_j = e_j / S and −logp_j = ls − d_j; with k +Infinity entries S = k, ls = log k, d_j ∈ {0, −Inf}.
  let inf = st.mkey == POS_INF_KEY;
  let rest = select(st.rest, 0.0, inf);
  let S = f32(st.cnt) + rest;
  let ls = log_sum(f32(st.cnt), rest);
  let neg = select(sc.sums.neg, inf1(), sc.sums.infs > 0u);
  var A: f32;
  var ce: f32;
  var bt = 0.0;
  if (PROBS) {
    A = sc.sums.coef;
    ce = A * ls + neg;
  } else {
    var omega = 1.0;
    if (WEIGHTS) {
      omega = lane_of(wts[sc.t / VL], sc.t % VL);
    }
    bt = C.eps1 * omega;
    A = bt;
    ce = bt * ls;
    if (bt != 0.0 && sc.tkey != st.mkey) {
      // The target below the max: −d_t > 0 (+Infinity for a −Infinity target).
      ce += first(neg_diff_times(V(bt), V(from_key(sc.tkey)), V(from_key(st.mkey))));
    }
    if (SMOOTH) {
      A += sc.sums.coef;
      ce += sc.sums.coef * ls + neg;
    }
  }
  var loss = ce;
  var zterm = 0.0;
  if (C.zeta != 0.0) {
    // (ζ·|lse|)·|lse|: lse² alone may overflow where the product does not.
    loss += (C.zeta * abs(lse)) * abs(lse);
    zterm = 2.0 * C.zeta * lse;
  }
  var k = C.kHost;
  if ((C.flags & K_FROM_PARTS) != 0u) {
    k = parts[C.scaleAt].rest;
  }
  let mode = select(NORMAL, GUARDED, inf && C.zeta != 0.0);
  return RowResult(loss, lse, mode, k * ((A + zterm) / S), k * bt, k);
}

fn put_grad(i: u32, v: V) {
  if (GRAD == 2u) {
    xs[i] = v;
  } else {
    dst[i] = v;
  }
}

fn get_grad(i: u32) -> V {
  if (GRAD == 2u) {
    return xs[i];
  }
  return dst[i];
}

fn fill_grad(u: Unit, v: V) {
  for (var i = u.start + u.lane; i < u.end; i += G) {
    put_grad(u.rowBase + i, v);
  }
}

// The gradient over the unit's lanes. `scale`: exp((m_s − M)/T) for a split row's stored terms,
// which its segment kept relative to its own max m_s. `guarded`: a constant at each call.
fn grad_lanes(u: Unit, sc: Scan, res: RowResult, scale: f32, guarded: bool) {
  let es = exp_start(sc.st.mkey);
  let tv = sc.t / VL;
  let bvec = select(V(0.0), V(res.btk), lane_iota() == VU(sc.t % VL));
  for (var i = u.start + u.lane; i < u.end; i += G) {
    let idx = u.rowBase + i;
    var e: V;
    var dsA = V(1.0);
    var dsB = V(1.0);
    if (STORE) {
      e = get_grad(idx) * V(scale);
    } else {
      let x = xs[idx];
      var z = x;
      if (SOFTCAP) {
        let c = softcap(x);
        z = c.z;
        dsA = c.dsA;
        dsB = c.dsB;
      }
      e = exp_kept(es, z);
    }
    var ef = e * V(res.fk);
    if (guarded) {
      ef = select(ef, V(0.0), e == V(0.0));
    }
    var bk: V;
    if (PROBS) {
      bk = coef_at(idx, i) * V(res.k);
    } else {
      bk = select(V(0.0), bvec, i == tv);
      if (SMOOTH) {
        bk += coef_at(idx, i) * V(res.k);
      }
    }
    put_grad(idx, scale_temp((ef - bk) * dsA) * dsB);
  }
}

// The row's loss and lse (by its first unit's first thread when `first_unit`), then its gradient.
fn finish_row(u: Unit, sc: Scan, scale: f32, first_unit: bool) {
  let res = row_result(sc);
  if (first_unit && u.lane == 0u) {
    losses[P.rowsBase + u.row] = res.loss;
    lses[P.rowsBase + u.row] = res.lse;
  }
  if (GRAD == 0u) {
    return;
  }
  if (res.mode == FILL_ZERO) {
    fill_grad(u, V(0.0));
  } else if (res.mode == FILL_NAN) {
    fill_grad(u, nan_v());
  } else if (res.mode == GUARDED) {
    grad_lanes(u, sc, res, scale, true);
  } else {
    grad_lanes(u, sc, res, scale, false);
  }
}

@compute @workgroup_size(WG)
fn ce_fused(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  let sc = scan(u, ids);
  if (u.valid) {
    finish_row(u, sc, 1.0, true);
  }
}

// A segment's statistics (row_stats' record) and, in a second record per segment after the
// chunk's first ones, its target key, its count of infinite terms, Σ a·(−d) and Σ a, relative to
// its own max.
@compute @workgroup_size(WG)
fn ce_partial(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  let sc = scan(u, ids);
  put_partial(u, sc.st);
  if (u.valid && u.lane == 0u) {
    parts[P.rows * P.segs + u.row * P.segs + u.seg] =
      Partial(sc.tkey, sc.sums.infs, sc.sums.neg, bitcast<u32>(sc.sums.coef));
  }
}

// Merges a row's partials; the segments' sums move from their own max m_s to the row's M:
// −d_c = −(z_c − m_s)/T + (M − m_s)/T, both ≥ 0, so the merge does not cancel either.
@compute @workgroup_size(WG)
fn ce_write(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  if (!u.valid) {
    return;
  }
  let first_part = u.row * P.segs;
  let extra = P.rows * P.segs + first_part;
  let st = merge_partials(first_part);
  let M = V(from_key(st.mkey));
  var tkey = 0u;
  var infs = 0u;
  var neg = Kahan1(0.0, 0.0);
  var coef = Kahan1(0.0, 0.0);
  for (var s = 0u; s < P.segs; s++) {
    let x = parts[extra + s];
    tkey = max(tkey, x.mkey);
    if (PROBS || SMOOTH) {
      let cs = bitcast<f32>(x.pad);
      infs += x.cnt;
      kahan_add1(&neg, x.rest);
      kahan_add1(&coef, cs);
      let ms = parts[first_part + s].mkey;
      if (ms != st.mkey && cs != 0.0) {
        let add = first(neg_diff_times(V(cs), V(from_key(ms)), M));
        if (bitcast<u32>(add) == POS_INF_BITS) {
          infs += 1u;
        } else {
          kahan_add1(&neg, add);
        }
      }
    }
  }
  let sc = Scan(st, Sums(neg.sum - neg.comp, coef.sum - coef.comp, infs), tkey, target_of(u));
  var scale = 1.0;
  let own = parts[first_part + u.seg].mkey;
  if (STORE && own != st.mkey) {
    scale = first(exp_scaled(V(from_key(own)), M));
  }
  finish_row(u, sc, scale, u.seg == 0u);
}

// k = g / D for a GPU-resident 'mean' over class indices: D = Σ ω_i over the rows not ignored,
// into parts[scaleAt] (D, k). One thread: a sum over rows, not over rows × cols. A target outside
// [0, C), or D = 0, makes k NaN (a GPU-resident call cannot throw; the array API refuses both).
@compute @workgroup_size(1)
fn ce_norm() {
  var acc = Kahan1(0.0, 0.0);
  var bad = false;
  for (var r = 0u; r < C.rowsAll; r++) {
    let t = tgt[r];
    if ((C.flags & HAS_IGNORE) != 0u && t == C.ignore) {
      continue;
    }
    if (t >= C.cols) {
      bad = true;
      continue;
    }
    var w = 1.0;
    if (WEIGHTS) {
      w = lane_of(wts[t / VL], t % VL);
    }
    kahan_add1(&acc, w);
  }
  let d = acc.sum - acc.comp;
  let k = select(C.gradScale / d, first(nan_v()), bad || d == 0.0);
  parts[C.scaleAt] = Partial(bitcast<u32>(d), 0u, k, 0u);
}
