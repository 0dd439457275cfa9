// softmaxBackward (LOG = false): dx = y ⊙ (dy − Σ dy·y) / T.
// logSoftmaxBackward (LOG = true): dx = (dy − exp(y) · Σ dy) / T.
// Same unit layout as forward.wgsl: one dispatch per row, or partial sums + a merge.

@group(0) @binding(0) var<storage, read> ys: array<V>;
@group(0) @binding(1) var<storage, read> dys: array<V>;
@group(0) @binding(2) var<storage, read_write> dst: array<V>;
@group(0) @binding(4) var<uniform> P: Params;

const TWO_M64: f32 = 0x1p-64f;

// Hardware may flush subnormal operands (and results) of any arithmetic to zero, and a
// subnormal y or dy times a large factor is an ordinary number: softmaxBackward([1, 1e-40, 0],
// [0, 1e20, 0]) needs 1e-40 · 1e20. So a subnormal factor is decoded from its bits (as v·2^64,
// exact: see times_2_64) and the product scaled back last. Zero takes the same path, harmlessly.
fn is_subnormal(v: V) -> VB {
  return (bitcast<VU>(v) & VU(POS_INF_BITS)) == VU(0u);
}

// a·b, right whenever it is a normal number, whatever hardware flushes. (Two subnormal factors
// give less than 2^-252: flushed, far below what a temperature ≥ 2^-64 can lift to 2^-126.)
fn mul_unflushed(a: V, b: V) -> V {
  let sa = is_subnormal(a);
  let sb = is_subnormal(b);
  let p = select(a, times_2_64(a), sa) * select(b, times_2_64(b), sb);
  return p * select(V(1.0), V(TWO_M64), sa | sb);
}

// v·2^e for any integer e, in three steps (each exponent within ldexp's range) that all scale the
// same way, so no step overflows or flushes unless the result does; |e| past 378 only saturates.
fn scale_exp(v: V, e: VI) -> V {
  let e1 = clamp(e, VI(-126), VI(126));
  let e2 = clamp(e - e1, VI(-126), VI(126));
  let e3 = clamp(e - e1 - e2, VI(-126), VI(126));
  return ldexp(ldexp(ldexp(v, e1), e2), e3);
}

// exp(y)·s without forming exp(y), which may be subnormal (y < −87.3, and flushed) while the
// product is not: exp(y) = e^r·2^k (Cody–Waite with ln 2 = 0.693359375 − 2.12194440e-4, the first
// part of 9 significant bits so k·0.693359375 is exact), s = f·2^j (frexp, once per row), and
// the result is (e^r·f)·2^(k+j). By bit pattern: NaN y stays NaN, +Inf gives Inf·s, −Inf 0 (the
// clamp), and a non-finite s multiplies exp(y) plainly.
fn exp_times(y: V, s: f32) -> V {
  let finite_s = (bitcast<u32>(s) & 0x7fffffffu) < POS_INF_BITS;
  let fs = frexp(select(1.0, s, finite_s));
  let h = clamp(y, V(-400.0), V(400.0));
  let k = round(h * V(1.4426950408889634));
  let r = (h - k * V(0.693359375)) - k * V(-2.12194440e-4);
  var e = scale_exp(exp_poly(r) * V(fs.fract), VI(k) + VI(fs.exp));
  if (!finite_s) {
    e = e * V(s);
  }
  let b = bitcast<VU>(y);
  return select(e, y * V(s), (b == VU(POS_INF_BITS)) | ((b & VU(0x7fffffffu)) > VU(POS_INF_BITS)));
}

struct Dot { sum: f32, careful: bool }

// Σ dy·y (LOG: Σ dy) over the unit's lanes. Products are first taken plainly, which hardware may
// get wrong only when a factor is subnormal and the other nonzero; such a unit (rare: most hold
// no subnormal at all) is summed again with mul_unflushed. The second loop runs no iteration
// elsewhere, which costs next to nothing even where both sides of a branch are executed
// (SwiftShader), and both reductions run in every unit, as subgroup operations need.
fn segment_dot(u: Unit, ids: Ids) -> Dot {
  var acc = Kahan(V(0.0), V(0.0));
  // Least (magnitude bits − 1) over the smaller factor of each product: below 2^23 − 1 exactly
  // when a product has a subnormal factor and no zero one (0 − 1 wraps around to 2^32 − 1).
  var tiny = VU(0xffffffffu);
  for (var i = u.start + u.lane; i < u.end; i += G) {
    let d = dys[u.rowBase + i];
    if (LOG) {
      kahan_add(&acc, d);
    } else {
      let y = ys[u.rowBase + i];
      kahan_add(&acc, d * y);
      tiny = min(tiny, min(bitcast<VU>(d) & VU(0x7fffffffu), bitcast<VU>(y) & VU(0x7fffffffu)) - VU(1u));
    }
  }
  let own = select(0u, 1u, hmin_u(tiny) < 0x007fffffu);
  let plain = unit_sum(own, acc, ids);
  let careful = plain.cnt > 0u;
  var again = Kahan(V(0.0), V(0.0));
  let end = select(u.start, u.end, careful);
  for (var i = u.start + u.lane; i < end; i += G) {
    kahan_add(&again, mul_unflushed(dys[u.rowBase + i], ys[u.rowBase + i]));
  }
  let redone = unit_sum(0u, again, ids);
  return Dot(select(plain.sum, redone.sum, careful), careful);
}

// dx·T = y·(dy − dot) or dy − exp(y)·dot, then the temperature. Class 3 (tiny T) takes y·2^64
// (subnormals decoded) first: products down to 2^-190 survive until 2^(-p-64) lifts them.
fn grad(y: V, d: V, dot: f32) -> V {
  if (LOG) {
    return scale_temp(d - exp_times(y, dot));
  }
  if (TEMP == 3u) {
    return temp_scale((times_2_64(y) * (d - V(dot))) * V(P.invTemp));
  }
  return scale_temp(y * (d - V(dot)));
}

// The same where y may be subnormal: y·2^64 decoded from its bits, scaled back after the
// temperature (a gradient past 2^64 aside, neither step overflows or flushes unless dx does).
fn grad_unflushed(y: V, d: V, dot: f32) -> V {
  if (LOG || TEMP == 3u) {
    return grad(y, d, dot);
  }
  let sy = is_subnormal(y);
  let dx = scale_temp(select(y, times_2_64(y), sy) * (d - V(dot)));
  return dx * select(V(1.0), V(TWO_M64), sy);
}

// Plain lanes, or (a unit with a subnormal factor) the careful ones: one loop runs no iteration.
fn write_grad(u: Unit, dot: f32, careful: bool) {
  let fast_end = select(u.end, u.start, careful);
  for (var i = u.start + u.lane; i < fast_end; i += G) {
    dst[u.rowBase + i] = grad(ys[u.rowBase + i], dys[u.rowBase + i], dot);
  }
  let careful_end = select(u.start, u.end, careful);
  for (var i = u.start + u.lane; i < careful_end; i += G) {
    dst[u.rowBase + i] = grad_unflushed(ys[u.rowBase + i], dys[u.rowBase + i], dot);
  }
}

@compute @workgroup_size(WG)
fn bwd_fused(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  let dot = segment_dot(u, ids);
  if (u.valid) {
    write_grad(u, dot.sum, dot.careful);
  }
}

@compute @workgroup_size(WG)
fn bwd_partial(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  let dot = segment_dot(u, ids);
  if (u.valid && u.lane == 0u) {
    parts[u.row * P.segs + u.seg] = Partial(0u, select(0u, 1u, dot.careful), dot.sum, 0u);
  }
}

// A segment writes carefully when its own partial had a subnormal factor.
@compute @workgroup_size(WG)
fn bwd_write(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  if (!u.valid) {
    return;
  }
  write_grad(u, sum_partials(u.row * P.segs), parts[u.row * P.segs + u.seg].cnt != 0u);
}
