// logSumExp: log Σ exp(x / T) of each row, one value per row (row_stats.wgsl's log_sum_exp).
// Units as in forward.wgsl: lse_fused does a whole row in one dispatch; for a long row split into
// segments, lse_partial keeps each segment's statistics and lse_write merges them, one thread
// per row.

@group(0) @binding(0) var<storage, read> src: array<V>;
// One value per row: row r of the chunk at P.rowsBase + r.
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<uniform> P: Params;

// The max, then the count at it and the sum of exp over the others (as softmax's, keeping nothing).
fn unit_stats(u: Unit, ids: Ids) -> Stats {
  var mx = max_start();
  for (var i = u.start + u.lane; i < u.end; i += G) {
    max_add(&mx, src[u.rowBase + i]);
  }
  var es = exp_start(unit_max_key(mx, ids));
  for (var i = u.start + u.lane; i < u.end; i += G) {
    exp_add(&es, src[u.rowBase + i]);
  }
  return unit_exp_stats(es, ids);
}

@compute @workgroup_size(WG)
fn lse_fused(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  let st = unit_stats(u, ids);
  if (u.valid && u.lane == 0u) {
    dst[P.rowsBase + u.row] = log_sum_exp(st);
  }
}

@compute @workgroup_size(WG)
fn lse_partial(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  put_partial(u, unit_stats(u, ids));
}

@compute @workgroup_size(WG)
fn lse_write(ids: Ids) {
  let u = unit_of(ids.wid, ids.lid);
  if (u.valid && u.seg == 0u && u.lane == 0u) {
    dst[P.rowsBase + u.row] = log_sum_exp(merge_partials(u.row * P.segs));
  }
}
