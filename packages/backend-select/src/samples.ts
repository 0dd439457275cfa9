/**
 * The timings of one candidate in one bucket: the last few whole-call times (ms). A ring buffer,
 * so a machine that changes (thermal limits, another tenant) is followed rather than averaged away.
 */
export const RING = 32;

/** Calls a candidate is measured on while exploring a bucket (the first ones may be cold). */
export const EXPLORE_SAMPLES = 3;

export type SampleSource = 'measured' | 'persisted' | 'imported';

export class Samples {
  readonly values: number[] = [];
  #next = 0;
  /** Calls timed in all (the ring holds the last RING). */
  count = 0;
  /** Where the values came from: measured here, or seeded from a store or a profile. */
  source: SampleSource = 'measured';
  /**
   * The ring's values in order, kept sorted as values come and go (a few moves, where sorting the
   * ring again cost ~100 ns a call at small shapes: a settled bucket re-decides every 16 calls).
   */
  readonly #sorted: number[] = [];

  /** Adds a timing; true when it showed the earlier ones cold, and they were forgotten. */
  add(ms: number): boolean {
    if (this.source !== 'measured') {
      // The first real measurement replaces seeded values: they described another run.
      this.forget();
      this.source = 'measured';
    }
    // First calls (up to an exploration's) all more than twice a later one were a cold start
    // (JIT, memory growth, workers waking, other candidates loading on the same cores): they say
    // nothing about the steady cost, and would drop a good candidate.
    const cold = this.count <= EXPLORE_SAMPLES && this.values.length === this.count && this.#sorted[0] > 2 * ms;
    if (cold) this.forget();
    if (this.values.length < RING) this.values.push(ms);
    else {
      removeSorted(this.#sorted, this.values[this.#next]);
      this.values[this.#next] = ms;
    }
    insertSorted(this.#sorted, ms);
    this.#next = (this.#next + 1) % RING;
    this.count++;
    return cold;
  }

  /** Forgets the timings held (not how many calls were timed). */
  forget(): void {
    this.values.length = 0;
    this.#next = 0;
    this.#sorted.length = 0;
  }

  /** Seeds from a summary (median and spread) read from a store or a profile. */
  seed(median: number, spread: number, n: number, source: SampleSource): void {
    this.forget();
    // Three values reproduce the median and the spread (half the relative interquartile range).
    const k = Math.max(1, Math.min(3, n));
    if (k === 1) this.values.push(median);
    else this.values.push(median * (1 - spread), median, median * (1 + spread));
    this.count = n;
    this.source = source;
    for (const v of this.values) insertSorted(this.#sorted, v);
  }

  get size(): number {
    return this.values.length;
  }

  quantile(q: number): number {
    const s = this.#sorted;
    if (s.length === 0) return Number.NaN;
    const pos = (s.length - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  }

  get median(): number {
    return this.quantile(0.5);
  }

  get min(): number {
    return this.#sorted[0] ?? Number.NaN;
  }

  /** Half the interquartile range over the median: the relative noise of these timings. */
  get spread(): number {
    if (this.values.length < 3) return 0;
    const m = this.median;
    return m > 0 ? (this.quantile(0.75) - this.quantile(0.25)) / 2 / m : 0;
  }
}

/** Inserts `v` into ascending `sorted` (NaN never occurs: timings are finite). */
function insertSorted(sorted: number[], v: number): void {
  let i = sorted.length;
  sorted.push(v);
  while (i > 0 && sorted[i - 1] > v) {
    sorted[i] = sorted[i - 1];
    i--;
  }
  sorted[i] = v;
}

/** Removes one occurrence of `v` from ascending `sorted`. */
function removeSorted(sorted: number[], v: number): void {
  const i = sorted.indexOf(v);
  if (i >= 0) sorted.splice(i, 1);
}
