// softmax / log-softmax (LOG override) along rows. A row is one unit, or, when it is long and
// rows are few, `segs` units whose (max, count at max, rest) partials are merged afterwards:
// fwd_fused does a whole row in one dispatch; fwd_partial + fwd_write do split rows.

@group(0) @binding(0) var<storage, read> src: array<V>;
@group(0) @binding(2) var<storage, read_write> dst: array<V>;
@group(0) @binding(4) var<uniform> P: Params;

// Two passes over the unit's lanes (see row_stats.wgsl): the max, then, relative to that max,
// how many entries equal it and the sum of exp over the others.
fn segment_stats(u: Unit, ids: Ids) -> Stats {
  var mx = max_start();
  for (var i = u.start + u.lane; i < u.end; i += G) {
    max_add(&mx, src[u.rowBase + i]);
  }
  var es = exp_start(unit_max_key(mx, ids));
  for (var i = u.start + u.lane; i < u.end; i += G) {
    let kept = exp_add(&es, src[u.rowBase + i]);
    if (!LOG) {
      // Kept for the write pass, which then scales instead of evaluating exp a second time.
      dst[u.rowBase + i] = kept;
    }
  }
  return unit_exp_stats(es, ids);
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
  put_partial(u, segment_stats(u, ids));
}

// Merges a row's partials (see merge_partials); the unit's own segment, which dst holds relative
// to its own max, is rescaled by exp((m_s − M) / T).
@compute @workgroup_size(WG)
fn fwd_write(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  if (!u.valid) {
    return;
  }
  let first_part = u.row * P.segs;
  let st = merge_partials(first_part);
  let own = parts[first_part + u.seg].mkey;
  var scale = 1.0;
  if (own != st.mkey) {
    scale = first(exp_scaled(V(from_key(own)), V(from_key(st.mkey))));
  }
  write_row(u, st, scale);
}
