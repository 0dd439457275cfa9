// Reductions inside one subgroup by butterfly shuffles, for units of G ≤ the smallest subgroup
// size (G a power of two; subgroups are taken to be consecutive, aligned runs of
// local_invocation_index, so a unit never spans two). No workgroup memory and no barrier: on
// CPU emulators (SwiftShader) a shader with barriers runs its invocations as coroutines, which
// costs far more than these few shuffles. G = 1 (one thread per unit) uses reduce_single.wgsl.
struct Ids {
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
}

fn group_max_u(v: u32, ids: Ids) -> u32 {
  var r = v;
  for (var s = 1u; s < G; s = s << 1u) {
    r = max(r, subgroupShuffleXor(r, s));
  }
  return r;
}

struct CountSum { cnt: u32, sum: f32 }

fn group_sum2(c: u32, f: f32, ids: Ids) -> CountSum {
  var rc = c;
  var rf = f;
  for (var s = 1u; s < G; s = s << 1u) {
    rc = rc + subgroupShuffleXor(rc, s);
    rf = rf + subgroupShuffleXor(rf, s);
  }
  return CountSum(rc, rf);
}
