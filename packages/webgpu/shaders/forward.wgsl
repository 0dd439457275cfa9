// softmax / log-softmax (LOG override) along rows. A row is one unit, or, when it is long and
// rows are few, `segs` units whose (max, count at max, rest) partials are merged afterwards:
// fwd_fused does a whole row in one dispatch; fwd_partial + fwd_write do split rows.

@group(0) @binding(0) var<storage, read> src: array<V>;
@group(0) @binding(2) var<storage, read_write> dst: array<V>;
@group(0) @binding(3) var<storage, read_write> parts: array<Partial>;
@group(0) @binding(4) var<uniform> P: Params;

struct Stats { mkey: u32, cnt: u32, rest: f32 }

// Two passes over the unit's lanes: the max, then, relative to that max, how many entries
// equal it and the sum of exp over the others.
fn segment_stats(u: Unit, ids: Ids) -> Stats {
  // max() is exact for ±Inf (of ±0 it may give either: both count as the max below); NaN, which
  // max() need not propagate, is found apart from the largest magnitude bits. The result goes
  // to an ordered key for the reduction and the partials.
  var mx = neg_inf_v();
  var mag = VU(0u);
  var kmax = VU(NEG_INF_KEY);
  for (var i = u.start + u.lane; i < u.end; i += G) {
    let x = src[u.rowBase + i];
    if (TEMP >= 2u) {
      // Keys are exact for subnormals, which hardware may flush in float max and comparisons:
      // with T below 2^-64 they are whole units of t (class 2 takes the same path: it is rare).
      kmax = max(kmax, key_of(x));
    } else {
      mx = max(mx, x);
      mag = max(mag, bitcast<VU>(x) & VU(0x7fffffffu));
    }
  }
  var own_key = hmax_u(kmax);
  if (TEMP < 2u) {
    own_key = select(hmax_u(key_of(V(hmax(mx)))), NAN_KEY, hmax_u(mag) > POS_INF_BITS);
  }
  let mkey = group_max_u(own_key, ids);
  let m = V(from_key(mkey));
  // Entries equal to the max: the float comparison makes ±0 equal, the bit comparison keeps
  // +Inf exact even where a compiler assumes finite floats (classes 2–3 compare keys, which
  // fold −0 onto +0). Terms are taken only when the max is finite and x is neither the max nor
  // −Inf; otherwise write_row does not use them.
  let mbits = VU(bitcast<u32>(first(m)));
  var cnt = VU(0u);
  var acc = Kahan1(0.0, 0.0);
  for (var i = u.start + u.lane; i < u.end; i += G) {
    let x = src[u.rowBase + i];
    let xb = bitcast<VU>(x);
    var eq = (x == m) | (xb == mbits);
    if (TEMP >= 2u) {
      eq = key_of(x) == VU(mkey);
    }
    cnt += select(VU(0u), VU(1u), eq);
    let term = select(V(0.0), exp_scaled(x, m), !eq & (xb != VU(NEG_INF_BITS)));
    // The lanes are added first: positive terms, so this costs at most 2^-23 of the sum.
    kahan_add1(&acc, hsum(term));
    if (!LOG) {
      // Kept for the write pass, which then scales instead of evaluating exp a second time.
      dst[u.rowBase + i] = select(term, V(1.0), eq);
    }
  }
  let cs = group_sum2(hsum_u(cnt), acc.sum - acc.comp, ids);
  return Stats(mkey, cs.cnt, cs.sum);
}

fn fill(u: Unit, v: V) {
  for (var i = u.start + u.lane; i < u.end; i += G) {
    dst[u.rowBase + i] = v;
  }
}

// The special-value rules of @softmax/core's reference, then the ordinary case. For softmax,
// dst already holds exp((x − m_s) / T) of the unit's segment; `scale` = exp((m_s − M) / T).
fn write_row(u: Unit, st: Stats, scale: f32) {
  if (is_nan_key(st.mkey)) {
    fill(u, nan_v());
    return;
  }
  let zero = select(V(0.0), neg_inf_v(), LOG);
  if (st.mkey == POS_INF_KEY) {
    // k entries are +Inf: they share the mass equally, the rest get nothing.
    let k = f32(st.cnt);
    let share = V(select(1.0 / k, -log_sum(k, 0.0), LOG));
    for (var i = u.start + u.lane; i < u.end; i += G) {
      let x = src[u.rowBase + i];
      dst[u.rowBase + i] = select(zero, share, bitcast<VU>(x) == VU(POS_INF_BITS));
    }
    return;
  }
  if (st.mkey == NEG_INF_KEY) {
    fill(u, select(nan_v(), zero, P.maskedZero == 1u));
    return;
  }
  let m = V(from_key(st.mkey));
  if (LOG) {
    let ls = V(log_sum(f32(st.cnt), st.rest));
    for (var i = u.start + u.lane; i < u.end; i += G) {
      let t = scaled_diff(src[u.rowBase + i], m);
      // Both terms are ≤ 0: no cancellation. −Inf inputs stay −Inf.
      dst[u.rowBase + i] = select(t - ls, zero, bitcast<VU>(t) == VU(NEG_INF_BITS));
    }
  } else {
    let factor = V(scale / (f32(st.cnt) + st.rest));
    for (var i = u.start + u.lane; i < u.end; i += G) {
      dst[u.rowBase + i] = dst[u.rowBase + i] * factor;
    }
  }
}

@compute @workgroup_size(WG)
fn fwd_fused(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  let st = segment_stats(u, ids);
  if (u.valid) {
    write_row(u, st, 1.0);
  }
}

@compute @workgroup_size(WG)
fn fwd_partial(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  let st = segment_stats(u, ids);
  if (u.valid && u.lane == 0u) {
    parts[u.row * P.segs + u.seg] = Partial(st.mkey, st.cnt, st.rest, 0u);
  }
}

// Merges a row's partials: segments whose max is below the row's max are rescaled by
// exp((m_s − M) / T), one rounding step per segment (no compounding as in a streaming merge).
@compute @workgroup_size(WG)
fn fwd_write(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  if (!u.valid) {
    return;
  }
  let first_part = u.row * P.segs;
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
  let own = parts[first_part + u.seg].mkey;
  var scale = 1.0;
  if (own != mkey) {
    scale = first(exp_scaled(V(from_key(own)), mv));
  }
  write_row(u, Stats(mkey, cnt, acc.sum - acc.comp), scale);
}
