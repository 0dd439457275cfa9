// Reductions over the G threads of a unit through workgroup memory: log2(G) barrier steps.
struct Ids {
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
}

var<workgroup> red_u: array<u32, WG>;
var<workgroup> red_f: array<f32, WG>;

fn group_max_u(v: u32, ids: Ids) -> u32 {
  if (G == 1u) {
    return v; // one thread per unit: no barrier at all (an override, so uniform)
  }
  let lid = ids.lid;
  red_u[lid] = v;
  for (var s = G / 2u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if ((lid & (G - 1u)) < s) {
      red_u[lid] = max(red_u[lid], red_u[lid + s]);
    }
  }
  workgroupBarrier();
  let r = red_u[lid & ~(G - 1u)];
  workgroupBarrier(); // the arrays are reused by the next reduction
  return r;
}

struct CountSum { cnt: u32, sum: f32 }

fn group_sum2(c: u32, f: f32, ids: Ids) -> CountSum {
  if (G == 1u) {
    return CountSum(c, f);
  }
  let lid = ids.lid;
  red_u[lid] = c;
  red_f[lid] = f;
  for (var s = G / 2u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if ((lid & (G - 1u)) < s) {
      red_u[lid] = red_u[lid] + red_u[lid + s];
      red_f[lid] = red_f[lid] + red_f[lid + s];
    }
  }
  workgroupBarrier();
  let head = lid & ~(G - 1u);
  let r = CountSum(red_u[head], red_f[head]);
  workgroupBarrier();
  return r;
}
