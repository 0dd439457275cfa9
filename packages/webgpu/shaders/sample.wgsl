// sample: one token per row (core's ops/sample.ts; the rules are the root README's `sample`
// section). A row is one unit of G threads (G = 1: a thread per row and no barrier at all). The
// vocabulary is never sorted: every cut is a threshold on the ordered keys of the processed
// logits (key_of in common.wgsl), found by a radix search over the key's bits: where a unit is
// the whole workgroup, 8 bits a pass (a 256-bin histogram of counts, or of weights, in workgroup
// memory: 4 passes); for smaller units one bit a pass with one unit reduction each (32 passes).
// The draw scans contiguous chunks in ascending id order after a prefix over the chunks' sums.
//
// Control flow stays uniform around every reduction (barriers, subgroup operations): a search
// runs whenever its pipeline constant is set and rows that do not need it ignore its result.

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> tab: array<u32>;
@group(0) @binding(2) var<storage, read_write> work: array<f32>;
@group(0) @binding(4) var<uniform> P: Params;
@group(0) @binding(5) var<storage, read_write> tokens: array<i32>;
@group(0) @binding(6) var<storage, read_write> lp_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> top_ids: array<i32>;
@group(0) @binding(8) var<storage, read_write> top_lp: array<f32>;

// Call-wide variants (sample-params.ts): rows read the processed copy in `work`; some row has
// top-k / top-p; the log-probabilities / the top n are written.
override PROCESS: bool = false;
override SEARCH_K: bool = false;
override SEARCH_P: bool = false;
override LOGPROBS: bool = false;
override TOPN: bool = false;

// A row's record in meta (16 words, see sample-params.ts), then the tables it points into.
const ROW_WORDS: u32 = 16u;
const F_GREEDY: u32 = 1u;
const F_MASK: u32 = 2u;

const TOKEN_NAN: i32 = -1;
const TOKEN_EMPTY: i32 = -2;
const LOWEST: u32 = 0x00800000u; // key_of's smallest key above −Inf: every candidate is at or above it

var<workgroup> chunk_sum: array<f32, WG>;
// The radix search's histogram (WIDE units): counts, and weights as float32 bits (added by
// compare-exchange: WGSL has no float atomics; the order of the additions only moves the sums
// by float32 rounding, as any order would).
var<workgroup> hist_c: array<atomic<u32>, 256>;
var<workgroup> hist_w: array<atomic<u32>, 256>;
override WIDE: bool = G == WG;
// The top-k set, when it is small (WIDE units): gathered once, then put in id order by each
// entry's rank among the gathered ids, so that every later pass (top-p, min-p, the sums, the
// draw, the top n) reads at most CAP entries instead of the row.
const CAP: u32 = 512u;
var<workgroup> list_n: atomic<u32>;
var<workgroup> raw_id: array<u32, CAP>;
var<workgroup> raw_x: array<f32, CAP>;
var<workgroup> list_id: array<u32, CAP>;
var<workgroup> list_x: array<f32, CAP>;
// The count of the last radix search's answer (entries at or above it), for the gathering.
var<private> last_count: u32;

fn mf(i: u32) -> f32 {
  return bitcast<f32>(tab[i]);
}

fn unit_sync() {
  if (G > 1u) {
    storageBarrier();
    workgroupBarrier();
  }
}

// The processed logit of id j of the row at `base`.
fn xv(base: u32, j: u32) -> f32 {
  if (PROCESS) {
    return work[base + j];
  }
  return logits[base + j];
}

// e^t for t ≤ 0 (−Inf included): t = k·ln 2 + r with ln 2 as a 15-bit head (k·head exact) plus
// the rest, then the shared polynomial (0.97 ulp on |r| ≤ ln2/2) times 2^k from its bits; under
// 2^-126 it is 0 (t < −87.33), which moves a kept total by less than one float32 ulp.
fn exp_neg(t: f32) -> f32 {
  let kb = bitcast<u32>(max(t * 1.4426950408889634, -126.0) + 12582912.0);
  let k = f32(bitcast<i32>(kb - 0x4b400000u));
  let r = (t - k * 0.693145751953125) - k * 1.4286068203094173e-6;
  let two_k = bitcast<f32>((kb + 127u) << 23u);
  let tiny = (t < -87.33) | (bitcast<u32>(t) == NEG_INF_BITS);
  return select(exp_poly(r) * two_k, 0.0, tiny);
}

// What every pass knows of its row.
struct Row {
  valid: bool,
  base: u32,      // offset of the row in logits / work
  rec: u32,       // offset of its record in meta
  lane: u32,
  mkey: u32,      // key of the largest processed logit
  m: f32,
  invT: f32,
  greedy: u32,    // the greedy id (lowest id at the max)
  ok: bool,       // neither a NaN nor only −Infinity
  inf: bool,      // the max is +Infinity: the +Infinity ids share the mass, nothing else is drawable
  compact: bool,  // the passes after top-k read the gathered list (list_id, list_x)
  len: u32,       // entries those passes read: cols, or the list's length
}

struct Item { j: u32, x: f32 }

// The q-th entry a pass reads: of the row, or of the gathered top-k set (ascending ids both).
fn item(r: Row, q: u32) -> Item {
  if (r.compact) {
    return Item(list_id[q], list_x[q]);
  }
  return Item(q, xv(r.base, q));
}

// Weight exp((x − max)/T) of an entry with key k (1 at the max, 0 for −Infinity and, when the
// max is +Infinity, for every finite entry).
fn weight(r: Row, k: u32, x: f32) -> f32 {
  if (k == r.mkey) {
    return 1.0;
  }
  if (r.inf || k < LOWEST) {
    return 0.0;
  }
  return exp_neg((x - r.m) * r.invT);
}

// (x − max)/T of a kept entry: 0 at the max (and for +Infinity entries).
fn scaled(r: Row, k: u32, x: f32) -> f32 {
  return select((x - r.m) * r.invT, 0.0, k == r.mkey);
}

// Penalties over the history, then the bias, on the row's copy in `work` (the mask is folded in
// when the copy is made; −Infinity stays −Infinity). History ids are distinct, and so are bias
// ids: each thread takes whole entries, with a barrier between the two tables.
fn process_row(r: Row, cols: u32) {
  let flags = select(0u, tab[r.rec], r.valid);
  let maskAt = tab[r.rec + 13u];
  let n = select(0u, cols, r.valid);
  for (var j = r.lane; j < n; j += G) {
    var x = logits[r.base + j];
    if ((flags & F_MASK) != 0u && ((tab[maskAt + (j >> 5u)] >> (j & 31u)) & 1u) == 0u) {
      x = bitcast<f32>(NEG_INF_BITS + runtime_zero);
    }
    work[r.base + j] = x;
  }
  unit_sync();
  let hAt = tab[r.rec + 9u];
  let hN = select(0u, tab[r.rec + 10u], r.valid);
  let rep = mf(r.rec + 6u);
  let pres = mf(r.rec + 7u);
  let freq = mf(r.rec + 8u);
  for (var k = r.lane; k < hN; k += G) {
    let id = tab[hAt + 2u * k];
    let c = f32(tab[hAt + 2u * k + 1u]);
    var v = work[r.base + id];
    if (bitcast<u32>(v) != NEG_INF_BITS) {
      if (rep != 1.0) {
        v = select(v / rep, v * rep, v < 0.0); // HF: a positive logit divided, a negative multiplied
      }
      work[r.base + id] = v - c * freq - pres; // OpenAI: once per occurrence, once for presence
    }
  }
  unit_sync();
  let bAt = tab[r.rec + 11u];
  let bN = select(0u, tab[r.rec + 12u], r.valid);
  for (var k = r.lane; k < bN; k += G) {
    let id = tab[bAt + 2u * k];
    let v = work[r.base + id];
    if (bitcast<u32>(v) != NEG_INF_BITS) {
      work[r.base + id] = v + mf(bAt + 2u * k + 1u);
    }
  }
  unit_sync();
}

// Entries of the row at or above key `t` (and above −Infinity): the unit's count and weight sum.
fn at_or_above(r: Row, cols: u32, t: u32, weights: bool, ids: Ids) -> CountSum {
  var c = 0u;
  var s = Kahan1(0.0, 0.0);
  let n = select(0u, cols, r.valid && r.ok);
  let lo = max(t, LOWEST);
  for (var j = r.lane; j < n; j += G) {
    let x = xv(r.base, j);
    let k = key_of(x);
    if (k >= lo && k <= POS_INF_KEY) {
      c += 1u;
      if (weights) {
        kahan_add1(&s, weight(r, k, x));
      }
    }
  }
  return group_sum2(c, s.sum - s.comp, ids);
}

// Whether id j (key k, logit x) is kept, given the threshold t and min-p.
fn is_kept(r: Row, j: u32, k: u32, x: f32, t: u32, minP: f32) -> bool {
  if ((tab[r.rec] & F_GREEDY) != 0u) {
    return j == r.greedy;
  }
  if (k < max(t, LOWEST) || k > POS_INF_KEY) {
    return false;
  }
  return minP <= 0.0 || weight(r, k, x) >= minP;
}

// What a radix search counts: the candidates (top-k), the weights of the top-k set (top-p), or
// the kept ids (top n).
const BY_COUNT: u32 = 0u;
const BY_WEIGHT: u32 = 1u;
const BY_KEPT: u32 = 2u;

struct Entry { on: bool, w: f32 }

fn entry(r: Row, j: u32, x: f32, k: u32, mode: u32, t: u32, minP: f32) -> Entry {
  if (mode == BY_KEPT) {
    return Entry(is_kept(r, j, k, x, t, minP), 0.0);
  }
  let on = k >= max(t, LOWEST) && k <= POS_INF_KEY;
  if (mode == BY_WEIGHT && on) {
    return Entry(true, weight(r, k, x));
  }
  return Entry(on, 0.0);
}

fn add_weight(d: u32, w: f32) {
  var old = atomicLoad(&hist_w[d]);
  loop {
    let res = atomicCompareExchangeWeak(&hist_w[d], old, bitcast<u32>(bitcast<f32>(old) + w));
    if (res.exchanged) {
      break;
    }
    old = res.old_value;
  }
}

// The largest key s such that the entries (of `mode`) with key ≥ s number at least `goalC`
// (counts) or weigh at least `frac` of all of them (BY_WEIGHT: their total comes from the same
// first pass); 0 when none does (rounding: then all stay).
fn radix_search(r: Row, cols: u32, mode: u32, t: u32, minP: f32, goalC: u32, frac: f32, ids: Ids) -> u32 {
  let n = select(0u, r.len, r.valid && r.ok);
  last_count = 0xffffffffu;
  var s = 0u;
  var goalW = 0.0;
  if (WIDE) {
    var aboveC = 0u;
    var aboveW = 0.0;
    var lost = false;
    for (var step = 0u; step < 4u; step++) {
      let shift = 24u - 8u * step;
      for (var b = ids.lid; b < 256u; b += WG) {
        atomicStore(&hist_c[b], 0u);
        atomicStore(&hist_w[b], 0u);
      }
      workgroupBarrier();
      for (var q = r.lane; q < n; q += G) {
        let it = item(r, q);
        let j = it.j;
        let x = it.x;
        let k = key_of(x);
        // Within the bins chosen so far (shift + 8 = 32 compares nothing in the first pass).
        if (step == 0u || (k >> (shift + 8u)) == (s >> (shift + 8u))) {
          let e = entry(r, j, x, k, mode, t, minP);
          if (e.on) {
            let d = (k >> shift) & 255u;
            if (mode == BY_WEIGHT) {
              add_weight(d, e.w);
            } else {
              atomicAdd(&hist_c[d], 1u);
            }
          }
        }
      }
      workgroupBarrier();
      if (step == 0u && mode == BY_WEIGHT) {
        // The total in the walk's own order, so the walk's last cumulative sum is exactly it.
        var all = 0.0;
        for (var b = 256u; b > 0u; b--) {
          all += bitcast<f32>(atomicLoad(&hist_w[b - 1u]));
        }
        goalW = frac * all;
      }
      // Every thread walks the bins from the top in the same order: the same digit everywhere.
      var digit = 0u;
      var c = aboveC;
      var w = aboveW;
      var found = false;
      for (var b = 256u; b > 0u && !lost; b--) {
        let nc = c + atomicLoad(&hist_c[b - 1u]);
        let nw = w + bitcast<f32>(atomicLoad(&hist_w[b - 1u]));
        if (select(nc >= goalC, nw >= goalW, mode == BY_WEIGHT)) {
          digit = b - 1u;
          found = true;
          last_count = nc;
          break;
        }
        c = nc;
        w = nw;
      }
      // Nothing reaches the goal (rounding, topP next to 1): the rest of s stays 0, all of it kept.
      lost = lost || !found;
      aboveC = c;
      aboveW = w;
      s = s | (digit << shift);
      workgroupBarrier(); // before the bins are cleared again
    }
    return s;
  }
  if (mode == BY_WEIGHT) {
    goalW = frac * at_or_above(r, cols, t, true, ids).sum;
  }
  for (var b = 0u; b < 32u; b++) {
    let c = s | (0x80000000u >> b);
    var cnt = 0u;
    var acc = Kahan1(0.0, 0.0);
    for (var j = r.lane; j < n; j += G) {
      let x = xv(r.base, j);
      let k = key_of(x);
      if (k >= c) {
        let e = entry(r, j, x, k, mode, t, minP);
        cnt += select(0u, 1u, e.on);
        kahan_add1(&acc, e.w);
      }
    }
    let cs = group_sum2(cnt, acc.sum - acc.comp, ids);
    if (select(cs.cnt >= goalC, cs.sum >= goalW, mode == BY_WEIGHT)) {
      s = c;
      last_count = cs.cnt;
    }
  }
  return s;
}

@compute @workgroup_size(WG)
fn sample_row(ids: Ids) {
  let wg = ids.wid.x + ids.wid.y * P.gridX;
  let row = wg * (WG / G) + ids.lid / G;
  let cols = P.colsV;
  var r: Row;
  r.valid = row < P.rows;
  r.base = row * cols;
  r.rec = select(0u, row, r.valid) * ROW_WORDS;
  r.lane = ids.lid & (G - 1u);
  r.compact = false;
  r.len = cols;
  if (PROCESS) {
    process_row(r, cols);
  }
  let flags = tab[r.rec];
  r.invT = mf(r.rec + 1u);

  // The max (as a key), how many candidates there are, and the lowest id at the max: one pass.
  var kmax = NEG_INF_KEY;
  var kid = 0xffffffffu;
  var cand = 0u;
  let n = select(0u, cols, r.valid);
  for (var j = r.lane; j < n; j += G) {
    let k = key_of(xv(r.base, j));
    if (k > kmax) {
      kmax = k;
      kid = j;
    }
    cand += select(0u, 1u, k >= LOWEST && k <= POS_INF_KEY);
  }
  r.mkey = group_max_u(kmax, ids);
  r.greedy = ~group_max_u(~select(0xffffffffu, kid, kmax == r.mkey), ids);
  let ncand = group_sum2(cand, 0.0, ids).cnt;
  r.ok = r.mkey >= LOWEST && r.mkey <= POS_INF_KEY;
  r.inf = r.mkey == POS_INF_KEY;
  r.m = from_key(select(LOWEST, r.mkey, r.ok));
  let greedy = (flags & F_GREEDY) != 0u;

  // Top-k: the largest key t with at least k candidates at or above it (ties at the k-th kept).
  var t = LOWEST;
  if (SEARCH_K) {
    let K = tab[r.rec + 2u];
    let sk = radix_search(r, cols, BY_COUNT, 0u, 0.0, K, 0.0, ids);
    let cntK = last_count;
    let cut = K > 0u && K < ncand;
    if (cut) {
      t = max(t, sk);
    }
    if (WIDE) {
      // Gather a small top-k set (the threshold's count says how many), then order it by id.
      let want = cut && cntK <= CAP && r.valid && r.ok && !r.inf;
      if (ids.lid == 0u) {
        atomicStore(&list_n, 0u);
      }
      workgroupBarrier();
      let n = select(0u, cols, want);
      for (var j = r.lane; j < n; j += G) {
        let x = xv(r.base, j);
        let k = key_of(x);
        if (k >= t && k <= POS_INF_KEY) {
          let slot = atomicAdd(&list_n, 1u);
          raw_id[slot] = j;
          raw_x[slot] = x;
        }
      }
      workgroupBarrier();
      let len = select(0u, atomicLoad(&list_n), want);
      for (var q = r.lane; q < len; q += G) {
        let id = raw_id[q];
        var pos = 0u;
        for (var i = 0u; i < len; i++) {
          pos += select(0u, 1u, raw_id[i] < id);
        }
        list_id[pos] = id;
        list_x[pos] = raw_x[q];
      }
      workgroupBarrier();
      r.compact = want;
      r.len = select(cols, len, want);
    }
  }
  // Top-p over the top-k set: the largest key t whose entries at or above it (whole groups of
  // equal logits) weigh at least topP of that set.
  if (SEARCH_P) {
    let topP = mf(r.rec + 3u);
    let sp = radix_search(r, cols, BY_WEIGHT, t, 0.0, 0u, topP, ids);
    if (topP < 1.0) {
      t = max(t, sp);
    }
  }
  if (r.inf) {
    t = POS_INF_KEY; // only the +Infinity ids: every filter keeps ties
  }
  let minP = select(mf(r.rec + 4u), 0.0, r.inf);

  // The kept total, per contiguous chunk (for the draw, in id order) and per unit: the count at
  // the max and the rest apart, for the log-probabilities (log_sum keeps log1p's accuracy).
  let chunk = (r.len + G - 1u) / G;
  let c0 = min(r.lane * chunk, r.len);
  // Greedy rows are done after the argmax pass: their one kept id needs no sum and no scan.
  let c1 = select(c0, min(c0 + chunk, r.len), r.valid && r.ok && !greedy);
  var csum = Kahan1(0.0, 0.0);
  var rest = Kahan1(0.0, 0.0);
  let alone = select(0u, 1u, greedy && r.lane == 0u);
  var atMax = alone;
  var nkept = alone;
  for (var q = c0; q < c1; q++) {
    let it = item(r, q);
    let j = it.j;
    let x = it.x;
    let k = key_of(x);
    if (is_kept(r, j, k, x, t, minP)) {
      let w = weight(r, k, x);
      kahan_add1(&csum, w);
      nkept += 1u;
      if (k == r.mkey) {
        atMax += 1u;
      } else {
        kahan_add1(&rest, w);
      }
    }
  }
  let own = csum.sum - csum.comp;
  let st = group_sum2(atMax, select(rest.sum - rest.comp, 0.0, greedy), ids);
  let logTotal = log_sum(f32(max(st.cnt, 1u)), st.sum);
  let kept = group_sum2(nkept, 0.0, ids).cnt;

  // The chunks' prefix in lane order, the same serial sum in every thread, so the intervals
  // [prefix, prefix + own) tile [0, total) exactly.
  var prefix = 0.0;
  var total = own;
  var laterPositive = false;
  if (G > 1u) {
    chunk_sum[ids.lid] = own;
    workgroupBarrier();
    let first = ids.lid & ~(G - 1u);
    total = 0.0;
    for (var i = 0u; i < G; i++) {
      let v = chunk_sum[first + i];
      if (i == r.lane) {
        prefix = total;
      }
      if (i > r.lane && v > 0.0) {
        laterPositive = true;
      }
      total += v;
    }
    workgroupBarrier();
  }
  let goal = mf(r.rec + 5u) * total;
  let mine = (prefix <= goal && goal < prefix + own) || (goal >= total && own > 0.0 && !laterPositive);
  if (r.valid && !r.ok) {
    if (r.lane == 0u) {
      tokens[row] = select(TOKEN_EMPTY, TOKEN_NAN, r.mkey > POS_INF_KEY);
    }
  } else if (r.valid && greedy) {
    if (r.lane == 0u) {
      tokens[row] = i32(r.greedy);
      if (LOGPROBS) {
        lp_out[row] = 0.0;
      }
    }
  } else if (r.valid && mine) {
    // The first kept id whose cumulative weight exceeds u × total; rounding past the chunk's end
    // falls back to its last kept id of positive weight.
    var cum = prefix;
    var token = 0xffffffffu;
    var last = 0xffffffffu;
    var lastScaled = 0.0;
    var tokenScaled = 0.0;
    for (var q = c0; q < c1; q++) {
      let it = item(r, q);
      let j = it.j;
      let x = it.x;
      let k = key_of(x);
      if (is_kept(r, j, k, x, t, minP)) {
        let w = weight(r, k, x);
        if (w > 0.0) {
          last = j;
          lastScaled = scaled(r, k, x);
        }
        cum += w;
        if (cum > goal && w > 0.0) {
          token = j;
          tokenScaled = scaled(r, k, x);
          break;
        }
      }
    }
    if (token == 0xffffffffu) {
      token = last;
      tokenScaled = lastScaled;
    }
    tokens[row] = i32(token);
    if (LOGPROBS) {
      lp_out[row] = tokenScaled - logTotal;
    }
  }

  // The n most probable kept ids: the largest key t_n with at least n kept at or above it, then
  // each such id's rank among them (greater key first, ties by ascending id), never sorting.
  if (TOPN) {
    let nTop = tab[r.rec + 14u];
    let sn = radix_search(r, cols, BY_KEPT, t, minP, nTop, 0.0, ids);
    let tn = select(0u, sn, nTop < kept);
    let m = select(0u, r.len, r.valid && r.ok);
    for (var q = r.lane; q < m; q += G) {
      let it = item(r, q);
      let j = it.j;
      let x = it.x;
      let k = key_of(x);
      if (k >= tn && is_kept(r, j, k, x, t, minP)) {
        var rank = 0u;
        for (var p = 0u; p < m; p++) {
          let other = item(r, p);
          let i = other.j;
          let xi = other.x;
          let ki = key_of(xi);
          if ((ki > k || (ki == k && i < j)) && is_kept(r, i, ki, xi, t, minP)) {
            rank += 1u;
          }
        }
        if (rank < nTop) {
          top_ids[row * nTop + rank] = i32(j);
          top_lp[row * nTop + rank] = select(scaled(r, k, x) - logTotal, 0.0, greedy);
        }
      }
    }
    let filled = select(0u, min(kept, nTop), r.ok);
    let nEnd = select(0u, nTop, r.valid);
    for (var q = filled + r.lane; q < nEnd; q += G) {
      top_ids[row * nTop + q] = -1;
      top_lp[row * nTop + q] = bitcast<f32>(NEG_INF_BITS + runtime_zero);
    }
  }
}
