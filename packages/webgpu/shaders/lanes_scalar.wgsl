// One lane per load, for rows whose length is not a multiple of 4.
alias V = f32;
alias VU = u32;
alias VI = i32;
alias VB = bool;

fn hsum(v: V) -> f32 {
  return v;
}

fn hsum_u(v: VU) -> u32 {
  return v;
}

fn hmax_u(v: VU) -> u32 {
  return v;
}

fn hmin_u(v: VU) -> u32 {
  return v;
}

fn first(v: V) -> f32 {
  return v;
}

fn hmax(v: V) -> f32 {
  return v;
}

// Lanes per load, the k-th lane of a load, and each lane's offset in it (kernels that pick out one
// element of a row, such as cross-entropy's target).
const VL: u32 = 1u;

fn lane_of(v: V, k: u32) -> f32 {
  return v;
}

fn lane_iota() -> VU {
  return 0u;
}
