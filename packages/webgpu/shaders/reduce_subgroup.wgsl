// Reductions with subgroup operations, then one workgroup-memory step across the subgroups of
// a unit. Used only when G is a multiple of the largest subgroup size, so a subgroup never
// spans two units; subgroups are taken to be consecutive runs of local_invocation_index.
struct Ids {
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sgi: u32,
  @builtin(subgroup_size) sgs: u32,
}

var<workgroup> red_u: array<u32, WG>;
var<workgroup> red_f: array<f32, WG>;

fn group_max_u(v: u32, ids: Ids) -> u32 {
  if (G == 1u) {
    return v; // one thread per unit: no barrier at all (an override, so uniform)
  }
  let m = subgroupMax(v);
  if (ids.sgi == 0u) {
    red_u[ids.lid / ids.sgs] = m;
  }
  workgroupBarrier();
  let first = (ids.lid & ~(G - 1u)) / ids.sgs;
  var r = red_u[first];
  for (var i = 1u; i < G / ids.sgs; i++) {
    r = max(r, red_u[first + i]);
  }
  workgroupBarrier();
  return r;
}

struct CountSum { cnt: u32, sum: f32 }

fn group_sum2(c: u32, f: f32, ids: Ids) -> CountSum {
  if (G == 1u) {
    return CountSum(c, f);
  }
  let cs = subgroupAdd(c);
  let fs = subgroupAdd(f);
  if (ids.sgi == 0u) {
    red_u[ids.lid / ids.sgs] = cs;
    red_f[ids.lid / ids.sgs] = fs;
  }
  workgroupBarrier();
  let first = (ids.lid & ~(G - 1u)) / ids.sgs;
  var rc = red_u[first];
  var rf = red_f[first];
  for (var i = 1u; i < G / ids.sgs; i++) {
    rc = rc + red_u[first + i];
    rf = rf + red_f[first + i];
  }
  workgroupBarrier();
  return CountSum(rc, rf);
}
