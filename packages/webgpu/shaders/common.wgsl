// Shared by every softmax kernel. `V`, `VU`, `VI`, `VB`, `hsum`, `hmax`, `hmax_u` come from a lane
// prelude (lanes_vec4.wgsl or lanes_scalar.wgsl); `G`, `WG`, `LOG` are pipeline overrides.

override G: u32 = 64u;  // threads that cooperate on one (row, segment) unit: a power of two
override WG: u32 = 64u; // threads per workgroup: a multiple of G
override LOG: bool = false;
// Temperature class (see temperature.wgsl): 0 when T is exactly 1, 1 for 2^-64 ≤ T ≤ 2^64, 2 above,
// 3 below. A pipeline constant, not a uniform, because SwiftShader runs both sides of a uniform
// branch under a lane mask: as uniform tests, the rare classes cost a fifth of a long row's time.
override TEMP: u32 = 1u;
// Hides the rounding errors that TwoSum and Kahan summation capture from compilers that apply
// float identities such as (a + b) − a → b (Mesa's NIR does, for lavapipe, which then loses
// 1e-6 of relative accuracy): see hide(). False where the compiler keeps the order (SwiftShader).
override GUARD: bool = false;

struct Params {
  rows: u32,      // rows in this dispatch
  colsV: u32,     // row length in lanes of V
  segLenV: u32,   // lanes of V per segment (one segment per row unless a long row is split)
  segs: u32,      // segments per row
  baseV: u32,     // offset of row 0 in the bound rows × cols arrays, in lanes of V
  rowsBase: u32,  // offset of row 0 in the bound one-value-per-row arrays, in values
  gridX: u32,     // workgroups along x: the dispatch is 2-D past maxComputeWorkgroupsPerDimension
  maskedZero: u32, // fullyMasked: 0 → NaN, 1 → zero
  temp: f32,      // τ: T itself in classes 0–1; in classes 2–3 T = τ·2^p with τ in (1/2, 1]
  ln2THi: f32,    // ln 2 · τ = ln2THi + ln2TLo, ln2THi with 15 significant bits
  ln2TLo: f32,
  invTemp: f32,   // fl(1 / τ)
  scale0: f32,    // classes 2–3: three powers of two whose product is 2^-p (class 3: 2^(-p-64))
  scale1: f32,
  scale2: f32,
  zero: u32,      // always 0, unknown to the compiler (see hide)
}

struct Pair { hi: V, lo: V }

// Infinity and NaN are recognised by bit pattern: WGSL lets a compiler assume floats are finite.
const POS_INF_BITS: u32 = 0x7f800000u;
const NEG_INF_BITS: u32 = 0xff800000u;
const NAN_KEY: u32 = 0xffffffffu; // any key above POS_INF_KEY is a NaN
const POS_INF_KEY: u32 = 0xff800000u; // key(+Inf)
const NEG_INF_KEY: u32 = 0x007fffffu; // key(−Inf)

// Maps f32 bits to a u32 whose unsigned order is the float order: negative floats have all
// bits flipped, positive ones only the sign. −0 is folded onto +0 (they compare equal, so both
// count as the max); NaN (either sign) maps above key(+Inf).
fn key_of(x: V) -> VU {
  var b = bitcast<VU>(x);
  b = select(b, VU(0u), b == VU(0x80000000u));
  let k = b ^ (bitcast<VU>(bitcast<VI>(b) >> VU(31u)) | VU(0x80000000u));
  // Negative NaNs land below key(−Inf): lift them; positive ones already sort above key(+Inf).
  return select(k, VU(NAN_KEY), k < VU(NEG_INF_KEY));
}

fn is_nan_key(k: u32) -> bool {
  return k > POS_INF_KEY;
}

fn from_key(k: u32) -> f32 {
  let b = select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u);
  return bitcast<f32>(b);
}

fn is_finite_key(k: u32) -> bool {
  return k > NEG_INF_KEY && k < POS_INF_KEY;
}

// v itself, but opaque to the compiler when GUARD is set: OR with a uniform 0 that it cannot
// see through, so no algebraic identity can cancel the terms of a compensated sum.
fn hide(v: V) -> V {
  return select(v, bitcast<V>(bitcast<VU>(v) | VU(P.zero)), GUARD);
}

fn hide1(v: f32) -> f32 {
  return select(v, bitcast<f32>(bitcast<u32>(v) | P.zero), GUARD);
}

// a − b exactly, as hi + lo (Knuth's TwoSum; hide() keeps compilers from cancelling its terms).
fn two_diff(a: V, b: V) -> Pair {
  let s = hide(a - b);
  let bb = hide(s - a);
  let err = (a - (s - bb)) + (-b - bb);
  return Pair(s, err);
}

// e^r for |r| ≤ ln2/2: a degree-6 polynomial 1 + r + r²·q(r), q fitted for least maximum
// relative error (truncation 3.2e-9; at most 0.97 ulp in float32 Horner, checked densely).
// WGSL's built-in exp is only bound to 3 + 2|x| ulp, hence this one.
const EXP_C6: f32 = 0.001382200513035059;
const EXP_C5: f32 = 0.008368683978915215;
const EXP_C4: f32 = 0.04166825860738754;
const EXP_C3: f32 = 0.1666652113199234;
const EXP_C2: f32 = 0.4999999403953552;

// e^r − 1 for |r| ≤ ln2/2: r·(1 + r·q(r)) keeps full relative accuracy for tiny r, where
// exp_poly(r) − 1 would cancel.
fn expm1_poly(r: V) -> V {
  var p = V(EXP_C6);
  p = p * r + V(EXP_C5);
  p = p * r + V(EXP_C4);
  p = p * r + V(EXP_C3);
  p = p * r + V(EXP_C2);
  p = p * r + V(1.0);
  return p * r;
}

// e^r for |r| ≤ ln2/2: the same polynomial with its last + 1.
fn exp_poly(r: V) -> V {
  return expm1_poly(r) + V(1.0);
}

// Infinities and NaN are built at run time: as constant expressions WGSL rejects them.
var<private> runtime_zero: u32;

fn from_bits(bits: u32) -> V {
  return bitcast<V>(VU(bits + runtime_zero));
}

fn nan_v() -> V {
  return from_bits(0x7fc00000u);
}

fn neg_inf_v() -> V {
  return from_bits(NEG_INF_BITS);
}

// The (row, segment) unit of a thread and where its lanes lie. Units past the end get an
// empty range but still take part in the workgroup's barriers.
struct Unit { row: u32, seg: u32, valid: bool, rowBase: u32, start: u32, end: u32, lane: u32 }

fn unit_of(wid: vec3<u32>, lid: u32) -> Unit {
  let wg = wid.x + wid.y * P.gridX;
  let u = wg * (WG / G) + lid / G;
  let row = u / P.segs;
  let seg = u % P.segs;
  let valid = row < P.rows;
  let rowBase = P.baseV + row * P.colsV;
  let start = min(seg * P.segLenV, P.colsV);
  let end = select(0u, min(start + P.segLenV, P.colsV), valid);
  return Unit(row, seg, valid, rowBase, select(0u, start, valid), end, lid & (G - 1u));
}
