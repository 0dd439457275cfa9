// One thread per unit (G = 1): nothing to reduce, and no barrier anywhere in the module.
struct Ids {
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
}

fn group_max_u(v: u32, ids: Ids) -> u32 {
  return v;
}

struct CountSum { cnt: u32, sum: f32 }

fn group_sum2(c: u32, f: f32, ids: Ids) -> CountSum {
  return CountSum(c, f);
}
