// Four lanes per load: rows whose length is a multiple of 4 are read and written as vec4<f32>.
alias V = vec4<f32>;
alias VU = vec4<u32>;
alias VI = vec4<i32>;
alias VB = vec4<bool>;

fn hsum(v: V) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

fn hsum_u(v: VU) -> u32 {
  return (v.x + v.y) + (v.z + v.w);
}

fn hmax_u(v: VU) -> u32 {
  return max(max(v.x, v.y), max(v.z, v.w));
}

fn hmin_u(v: VU) -> u32 {
  return min(min(v.x, v.y), min(v.z, v.w));
}

fn first(v: V) -> f32 {
  return v.x;
}

fn hmax(v: V) -> f32 {
  return max(max(v.x, v.y), max(v.z, v.w));
}

// Lanes per load, the k-th lane of a load, and each lane's offset in it (kernels that pick out one
// element of a row, such as cross-entropy's target).
const VL: u32 = 4u;

fn lane_of(v: V, k: u32) -> f32 {
  return v[k];
}

fn lane_iota() -> VU {
  return VU(0u, 1u, 2u, 3u);
}
