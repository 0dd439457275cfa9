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
