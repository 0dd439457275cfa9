// softmaxBackward (LOG = false): dx = y ⊙ (dy − Σ dy·y) / T.
// logSoftmaxBackward (LOG = true): dx = (dy − exp(y) · Σ dy) / T.
// Same unit layout as forward.wgsl: one dispatch per row, or partial sums + a merge.

@group(0) @binding(0) var<storage, read> ys: array<V>;
@group(0) @binding(1) var<storage, read> dys: array<V>;
@group(0) @binding(2) var<storage, read_write> dst: array<V>;
@group(0) @binding(3) var<storage, read_write> parts: array<Partial>;
@group(0) @binding(4) var<uniform> P: Params;

fn segment_dot(u: Unit, ids: Ids) -> f32 {
  var acc = Kahan(V(0.0), V(0.0));
  for (var i = u.start + u.lane; i < u.end; i += G) {
    let d = dys[u.rowBase + i];
    kahan_add(&acc, select(d * ys[u.rowBase + i], d, LOG));
  }
  return group_sum2(0u, hsum(acc.sum - acc.comp), ids).sum;
}

// exp for any input: ±Inf and NaN by bit pattern, the rest through exp_plain.
fn exp_any(y: V) -> V {
  let nan = (bitcast<VU>(y) & VU(0x7fffffffu)) > VU(POS_INF_BITS);
  return select(exp_plain(y), y, nan);
}

fn write_grad(u: Unit, dot: f32) {
  for (var i = u.start + u.lane; i < u.end; i += G) {
    let y = ys[u.rowBase + i];
    let d = dys[u.rowBase + i];
    var dx: V;
    if (LOG) {
      dx = d - exp_any(y) * V(dot);
    } else {
      dx = y * (d - V(dot));
    }
    if (TEMP == 1u) {
      dx = dx * V(P.invTemp);
    } else if (TEMP == 2u) {
      dx = temp_scale(dx * V(P.invTemp)); // 1/T = (1/τ)·2^-p, scaled down
    } else if (TEMP == 3u) {
      dx = temp_scale((dx * V(P.invTemp)) * V(TWO_64)); // scaled up: 2^64, then 2^(-p-64)
    }
    dst[u.rowBase + i] = dx;
  }
}

@compute @workgroup_size(WG)
fn bwd_fused(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  let dot = segment_dot(u, ids);
  if (u.valid) {
    write_grad(u, dot);
  }
}

@compute @workgroup_size(WG)
fn bwd_partial(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  let dot = segment_dot(u, ids);
  if (u.valid && u.lane == 0u) {
    parts[u.row * P.segs + u.seg] = Partial(0u, 0u, dot, 0u);
  }
}

@compute @workgroup_size(WG)
fn bwd_write(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  if (!u.valid) {
    return;
  }
  var acc = Kahan1(0.0, 0.0);
  for (var s = 0u; s < P.segs; s++) {
    kahan_add1(&acc, parts[u.row * P.segs + s].rest);
  }
  write_grad(u, acc.sum - acc.comp);
}
