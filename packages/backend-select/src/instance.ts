import { type Dtype, SoftmaxError } from '@softmax/core';
import {
  type Async,
  OP_NAMES,
  OPS,
  type OpCall,
  type OpDecl,
  type OpMethods,
  type OpSupport,
  type Sync,
  validateCall,
} from '@softmax/core/backend';
import type { Bucket } from './bucket.js';
import { runCanary } from './canary.js';
import { type Explain, explainOf } from './explain.js';
import { CANDIDATE_FIELDS, type Fingerprint, firstDifference, HOST_FIELDS, hostFingerprint } from './fingerprint.js';
import { attemptOf, inPlaceInputs, isRunnable, isSync, resultOf, runSync } from './invoke.js';
import { macrotask, settleWithin, WAIT_BUDGET_MS, WAIT_MIN_MS, YIELD_EVERY_MS } from './load-wait.js';
import { defaultLoaders, loadError } from './loaders.js';
import { backendFromEnv, checkOptions, type SoftmaxAutoOptions } from './options.js';
import { checkProfile, PROFILE_FORMAT, type Profile, type ProfileBucket } from './profile.js';
import { EXPLORE_SAMPLES, Selector } from './select.js';
import { type Slot, slotsFor } from './slots.js';
import { STORE_KEY } from './store.js';
import type { BackendName, CandidateId, ChoiceSource, Loaders, OpName } from './types.js';

/** What a failure or a demotion left behind, for explain(). */
export interface FailureEntry {
  /** Clock time (ms) of the failure. */
  at: number;
  /** The candidate that failed. */
  candidate: CandidateId;
  /** The op called. */
  op: string;
  /** The error's code (a SoftmaxError code, or the error's name). */
  code: string;
  /** The error's message. */
  message: string;
  /** The candidate that served the call instead (absent: none could). */
  servedBy?: CandidateId;
}

/** A candidate demoted after failures in a row, for explain(). */
export interface DemotionEntry {
  /** Clock time (ms) of the demotion. */
  at: number;
  /** The candidate demoted. */
  candidate: CandidateId;
  /** How long it sits out (doubling at each demotion). */
  coolDownMs: number;
  /** The failures in a row that demoted it. */
  afterFailures: number;
}

/** What happened to a persisted record or an imported profile. */
export interface ProfileReport {
  /** A record from the store, or a profile passed to importProfile(). */
  source: 'persisted' | 'imported';
  /** Buckets whose measurements were applied (some may wait for their backend to load). */
  applied: number;
  /** The whole record was not used: the host field that differed. */
  rejected?: { field: string; recorded: string; current: string };
  /** Entries of one candidate not used: the field of its fingerprint that differed. */
  rejectedCandidates: Array<{ candidate: CandidateId; field: string; recorded: string; current: string }>;
  /** Why the record could not be read or used, if it could not. */
  error?: string;
}

/** The per-op async methods (core's signatures, every one returning a Promise) and their sync twins. */
export type AsyncOps = OpMethods<Async>;
/** The sync twin of every op (`softmaxSync`, ...): core, or wasm once `ready()` has resolved. */
export type SyncOps = { [K in OpName as `${K}Sync`]: OpMethods<Sync>[K] };

/** The options of `calibrate()`. */
export interface CalibrateOptions {
  /** Stop after about this much time (default 2000 ms). */
  budgetMs?: number;
  /** The ops and dtypes to calibrate (default softmax, float32). */
  ops?: readonly OpName[];
  /** The float types to calibrate (default float32). */
  dtypes?: readonly Dtype[];
}

/** Entries of a profile waiting for their candidate to load (its fingerprint fields are known then). */
interface Pending {
  source: 'persisted' | 'imported';
  fingerprint: Fingerprint;
  report: ProfileReport;
  buckets: ProfileBucket[];
}

/** A settled bucket times one call in this many (see #timed). */
const TIME_EVERY = 8;

const FORWARD_SHAPES = [
  { rows: 1, cols: 10 },
  { rows: 1, cols: 1000 },
  { rows: 64, cols: 1000 },
  { rows: 1, cols: 100_000 },
];

/**
 * An auto instance: a `Backend` whose every call goes to the candidate its cost table says is
 * fastest for that (op, dtype, shape bucket), measured on the calls themselves, with a canary
 * before first use and fallback when a backend fails. See the README for the rules.
 *
 * @example
 * ```ts
 * import { createSoftmax } from '@softmax/auto';
 *
 * const auto = createSoftmax({ backends: ['core', 'wasm'] }); // an AutoSoftmax
 * const p = await auto.softmax(new Float32Array([1, 2, 3]));
 * await auto.ready();
 * const q = auto.softmaxSync(new Float32Array([1, 2, 3])); // wasm from here on
 * await auto.dispose();
 * ```
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the op methods are installed on the prototype from the op table.
export class AutoSoftmax {
  /** Always 'auto'. */
  readonly name = 'auto';
  readonly #options: SoftmaxAutoOptions;
  readonly #loaders: Loaders;
  readonly #clock: () => number;
  readonly #slots: Slot[];
  readonly #byId = new Map<CandidateId, Slot>();
  readonly #forced: BackendName | undefined;
  readonly #selector: Selector;
  /** Bumped whenever a candidate's state changes: buckets recompute which candidates may serve. */
  #version = 0;
  /** The earliest clock time at which a demoted candidate's cool-down ends. */
  #nextExpiry = Number.POSITIVE_INFINITY;
  #started = false;
  #disposed = false;
  readonly #background = new Set<Promise<unknown>>();
  /** When an async call next gives the event loop a turn while loads are pending (#letLoad). */
  #yieldAt = Number.NEGATIVE_INFINITY;
  /** Ms the async calls have waited for loads (#letLoad), at most WAIT_BUDGET_MS. */
  #waitedMs = 0;
  /** The failures seen so far (explain() shows them). */
  readonly failures: FailureEntry[] = [];
  /** The demotions so far. */
  readonly demotions: DemotionEntry[] = [];
  /** What happened to each persisted record or imported profile. */
  readonly profiles: ProfileReport[] = [];
  #pending: Pending[] = [];
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  #saving: Promise<void> = Promise.resolve();
  #storeError: string | undefined;
  readonly #createdAt: number;

  constructor(options: SoftmaxAutoOptions = {}, env: { forced?: BackendName } = {}) {
    this.#options = checkOptions(options);
    this.#loaders = { ...defaultLoaders, ...options.loaders };
    this.#clock = options.clock ?? (() => performance.now());
    this.#forced = options.backend ?? env.forced;
    this.#slots = slotsFor(options, this.#forced);
    for (const s of this.#slots) this.#byId.set(s.id, s);
    const webgpu = this.#byId.get('webgpu');
    this.#selector = new Selector(
      (options.mode ?? 'learn') === 'learn' && !this.#forced,
      () => !!webgpu?.loaded?.software,
      this.#forced !== undefined,
    );
    this.#createdAt = this.#clock();
  }

  /** Which ops, in which dtypes: the union of the loaded candidates' (exact once ready() resolved). */
  get ops(): OpSupport {
    const ops: Partial<Record<OpName, Dtype[]>> = {};
    for (const s of this.#slots) {
      if (!s.runnable || s.status !== 'ready') continue;
      for (const name of OP_NAMES) {
        for (const d of s.runnable.ops[name] ?? []) {
          ops[name] ??= [];
          if (!ops[name].includes(d)) ops[name].push(d);
        }
      }
    }
    for (const name of OP_NAMES) ops[name]?.sort();
    return ops;
  }

  /** The float types some loaded candidate computes in. */
  get dtypes(): readonly Dtype[] {
    const ops = this.ops;
    return (['float32', 'float64'] as const).filter((d) => OP_NAMES.some((n) => ops[n]?.includes(d)));
  }

  /**
   * Resolves once the CPU candidates are loaded and verified and a persisted record is read: from
   * then on the sync functions may use wasm. WebGPU keeps loading in the background.
   */
  async ready(): Promise<void> {
    this.#start();
    await Promise.all(this.#slots.filter((s) => s.backend !== 'webgpu' || this.#forced).map((s) => this.#load(s)));
    await this.#settle();
  }

  /**
   * Synthetic calibration, for applications that prefer to pay for learning up front: calls each
   * shape (default: a small grid) until its bucket is measured or the budget is spent. It waits
   * for WebGPU and its pipelines, which the ordinary calls never do.
   */
  async calibrate(
    shapes: ReadonlyArray<{ rows: number; cols: number }> = FORWARD_SHAPES,
    options: CalibrateOptions = {},
  ): Promise<void> {
    const budget = options.budgetMs ?? 2000;
    const t0 = this.#clock();
    await this.ready();
    const gpu = this.#byId.get('webgpu');
    if (gpu) await this.#load(gpu);
    for (const name of options.ops ?? ['softmax']) {
      const op = OPS[name] as OpDecl;
      for (const dtype of options.dtypes ?? ['float32']) {
        for (const { rows, cols } of shapes) {
          // Checked before the bucket is made, so explain() lists no bucket calibrate never called.
          if (this.#clock() - t0 > budget) return;
          const n = rows * cols;
          const make = () =>
            dtype === 'float32'
              ? Float32Array.from({ length: n }, (_, i) => Math.sin(i))
              : Float64Array.from({ length: n }, (_, i) => Math.sin(i));
          const args = [...op.inputs.map(make), { cols }];
          const bucket = this.#selector.bucket(name, dtype, rows, cols);
          this.#touch(bucket);
          await this.#settle();
          for (let i = 0; i < 4 * EXPLORE_SAMPLES * this.#slots.length && !bucket.settled; i++) {
            if (this.#clock() - t0 > budget) return;
            await (this as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name](...args);
          }
        }
      }
    }
  }

  /** Everything auto knows and why it chose what it chose (see formatExplain). */
  explain(): Explain {
    return explainOf({
      slots: this.#slots,
      buckets: [...this.#selector.buckets.values()],
      selector: this.#selector,
      failures: this.failures,
      demotions: this.demotions,
      profiles: this.profiles,
      forced: this.#forced,
      mode: this.#options.mode ?? 'learn',
      fingerprint: this.#fingerprint(),
      persistence: this.#options.store ? (this.#storeError ? `error: ${this.#storeError}` : 'on') : 'off',
      verify: this.#options.verify ?? true,
      now: this.#clock() - this.#createdAt,
    });
  }

  /** The measured choices of this instance, for importProfile() on the target machines. */
  exportProfile(): Profile {
    const fingerprint = { ...this.#fingerprint() };
    const buckets: ProfileBucket[] = [];
    for (const b of this.#selector.buckets.values()) {
      const candidates: ProfileBucket['candidates'] = {};
      for (const [id, s] of b.stats) {
        if (s.size > 0) candidates[id] = { median: s.median, spread: s.spread, n: s.count };
      }
      if (Object.keys(candidates).length > 0) {
        buckets.push({ op: b.op, dtype: b.dtype, rows: b.rows, cols: b.cols, chosen: b.chosen, candidates });
      }
    }
    // Entries still waiting for their candidate (not loaded in this run) are kept, with their fields.
    for (const p of this.#pending) {
      for (const b of p.buckets) buckets.push(b);
      for (const [id, fields] of Object.entries(CANDIDATE_FIELDS)) {
        if (this.#byId.get(id as CandidateId)?.loaded) continue;
        for (const f of fields)
          if (p.fingerprint[f] !== undefined && fingerprint[f] === undefined) fingerprint[f] = p.fingerprint[f];
      }
    }
    return { format: PROFILE_FORMAT, version: 1, fingerprint, buckets };
  }

  /**
   * Uses measured choices from another run (one profile or several: the first whose host
   * fingerprint matches is used). Returns what was applied and what was rejected, and why.
   */
  importProfile(profile: Profile | string | ReadonlyArray<Profile | string>): ProfileReport {
    const list = Array.isArray(profile) ? profile : [profile];
    let report: ProfileReport | undefined;
    for (const p of list) {
      report = this.#apply(checkProfile(p), 'imported');
      if (!report.rejected) break;
    }
    return report!;
  }

  /**
   * Writes the record (with a store), then disposes every backend it created; later calls fail with `BACKEND_UNAVAILABLE`.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#settle();
    if (this.#saveTimer !== undefined) clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    if (this.#started) this.#save();
    await this.#saving;
    await Promise.all(this.#slots.map((s) => s.runnable?.dispose()));
  }

  // ---- calls ------------------------------------------------------------------------------

  /** Loads core (synchronous) and starts the CPU candidates and the store in the background. */
  #start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#disposed) throw new SoftmaxError('BACKEND_UNAVAILABLE', 'this auto instance has been disposed');
    for (const s of this.#slots) {
      // wasm on one thread is the synchronous functions' fast path: loaded at once. The others
      // load when a bucket where they are plausible appears (WebGPU never before that).
      if (s.id === 'core' || s.id === 'wasm' || this.#forced) this.#background.add(this.#load(s));
    }
    const store = this.#options.store;
    if (store) {
      this.#track(
        (async () => {
          const text = await store.get(STORE_KEY);
          if (text) this.#apply(checkProfile(text), 'persisted');
        })().catch((error) => {
          this.#storeError = (error as Error).message;
          this.profiles.push({ source: 'persisted', applied: 0, rejectedCandidates: [], error: this.#storeError });
        }),
      );
    }
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#background.add(promise);
    promise.finally(() => this.#background.delete(promise)).catch(() => {});
    return promise;
  }

  /** Waits for the background work started so far (and for what that work starts). */
  async #settle(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  /** Loads, checks and verifies a candidate once (again after a failed init's cool-down). */
  #load(slot: Slot): Promise<void> {
    if (
      slot.status === 'not loaded' ||
      (slot.status === 'unavailable' && slot.retryAt !== undefined && this.#clock() >= slot.retryAt)
    ) {
      slot.status = 'loading';
      slot.loading = this.#track(this.#loadNow(slot));
    }
    return slot.loading ?? Promise.resolve();
  }

  async #loadNow(slot: Slot): Promise<void> {
    const t0 = this.#clock();
    let loaded: Awaited<ReturnType<Loaders['wasm']>>;
    try {
      loaded =
        slot.backend === 'core'
          ? this.#loaders.core()
          : slot.backend === 'wasm'
            ? await this.#loaders.wasm({ threads: slot.threads as number })
            : await this.#loaders.webgpu({ device: this.#options.device });
    } catch (error) {
      const e = loadError(error);
      slot.status = 'unavailable';
      slot.reason = e.message;
      // Unavailable (no adapter, no threads here) is a fact of this runtime; anything else may pass.
      slot.retryAt = e.code === 'BACKEND_UNAVAILABLE' ? undefined : this.#clock() + slot.breaker.firstCoolDownMs;
      this.failures.push({
        at: this.#clock() - this.#createdAt,
        candidate: slot.id,
        op: 'init',
        code: e.code,
        message: e.message,
      });
      this.#version++;
      return;
    }
    Object.assign(slot.cold, loaded.cold ?? { init: this.#clock() - t0 });
    if (this.#disposed) {
      await loaded.backend.dispose();
      return;
    }
    slot.loaded = loaded;
    const backend = loaded.backend;
    if (!isRunnable(backend)) {
      slot.status = 'unavailable';
      slot.reason = 'the backend has no run(call) (build it with defineBackend or BackendBase)';
      this.#version++;
      return;
    }
    slot.runnable = backend;
    slot.sync = isSync(backend);
    if (slot.id === 'webgpu' && loaded.software && this.#options.excludeSoftwareGpu) {
      slot.status = 'excluded';
      slot.reason = `a software adapter (${loaded.details.adapter}), and excludeSoftwareGpu is set`;
      this.#version++;
      return;
    }
    if (slot.id !== 'core' && (this.#options.verify ?? true)) {
      const canary = await runCanary(backend, this.#clock);
      slot.canary = canary;
      slot.cold.canary = canary.ms;
      if (!canary.ok) {
        slot.status = 'excluded';
        slot.reason = `the canary disagrees with core: ${canary.message}`;
        this.failures.push({
          at: this.#clock() - this.#createdAt,
          candidate: slot.id,
          op: 'canary',
          code: 'CANARY',
          message: canary.message ?? '',
        });
        this.#version++;
        return;
      }
    }
    slot.status = 'ready';
    this.#applyPending(slot);
    this.#version++;
  }

  /** #dtypesOf's answers, valid while #version is unchanged (every call asks). */
  #dtypesCache = new Map<OpName, readonly Dtype[] | undefined>();
  #dtypesVersion = -1;

  /** The dtypes some ready candidate computes `name` in (undefined: none implements it). */
  #dtypesOf(name: OpName): readonly Dtype[] | undefined {
    if (this.#dtypesVersion !== this.#version) {
      this.#dtypesCache.clear();
      this.#dtypesVersion = this.#version;
    }
    if (this.#dtypesCache.has(name)) return this.#dtypesCache.get(name);
    const dtypes = this.#dtypesNow(name);
    this.#dtypesCache.set(name, dtypes);
    return dtypes;
  }

  #dtypesNow(name: OpName): readonly Dtype[] | undefined {
    let dtypes: Dtype[] | undefined;
    for (const s of this.#slots) {
      const d = s.status === 'ready' ? s.runnable?.ops[name] : undefined;
      if (!d) continue;
      dtypes ??= [];
      for (const t of d) if (!dtypes.includes(t)) dtypes.push(t);
    }
    return dtypes;
  }

  /** Whether a candidate that might implement `name` is still loading (an async call waits for it). */
  #mayGain(name: OpName): boolean {
    if (this.#slots.some((s) => s.status === 'ready' && s.runnable?.ops[name])) return false;
    return this.#slots.some((s) => s.status === 'loading' || s.status === 'not loaded');
  }

  /** Validates once, with core's rules, against what the ready candidates implement. */
  #validate(name: OpName, args: ArrayLike<unknown>): OpCall {
    const dtypes = this.#dtypesOf(name);
    if (!dtypes) {
      const states = this.#slots.map((s) => `${s.id}: ${s.reason ?? s.status}`).join('; ');
      const code = this.#slots.some((s) => s.status === 'ready') ? 'UNSUPPORTED_OP' : 'BACKEND_UNAVAILABLE';
      throw new SoftmaxError(code, `no backend of this auto instance can run ${name} now (${states})`);
    }
    return validateCall(OPS[name] as OpDecl, args, dtypes);
  }

  /** Which candidates may serve a call in `b` now; starts loading or preparing the plausible others. */
  #touch(b: Bucket): void {
    // The clock is read only when a cool-down may have ended: at small shapes a clock read is a
    // good part of auto's cost per call.
    if (this.#nextExpiry !== Number.POSITIVE_INFINITY && this.#clock() >= this.#nextExpiry) {
      this.#nextExpiry = Number.POSITIVE_INFINITY;
      this.#version++;
    }
    if (b.readyVersion === this.#version) return;
    const now = this.#clock();
    const forced = this.#forced !== undefined;
    const usable = this.#slots.filter(
      (s) =>
        s.status !== 'unavailable' &&
        s.status !== 'excluded' &&
        (s.runnable ? s.runnable.ops[b.op]?.includes(b.dtype) === true : true),
    );
    const plausible = this.#selector.plausible(
      b,
      usable.map((s) => s.id),
    );
    for (const s of usable) {
      if (!plausible.includes(s.id)) continue;
      if (s.status === 'not loaded') void this.#load(s);
      if (s.status === 'ready' && s.loaded?.prepare && !s.prepared.has(b.key) && !s.preparing.has(b.key))
        this.#prepare(s, b);
    }
    const ready: CandidateId[] = [];
    for (const s of usable) {
      if (s.status !== 'ready' || !s.runnable?.ops[b.op]?.includes(b.dtype)) continue;
      if (s.loaded?.prepare && !s.prepared.has(b.key)) continue;
      if (!forced && !s.breaker.allows(now)) {
        this.#nextExpiry = Math.min(this.#nextExpiry, s.breaker.openUntil);
        continue;
      }
      ready.push(s.id);
    }
    // A candidate that joined (WebGPU once prepared, a backend back from its cool-down) is measured.
    if (ready.some((id) => !b.ready.includes(id) && !b.stats.get(id)?.size)) this.#selector.reopen(b);
    if (ready.length !== b.ready.length || ready.some((id, i) => id !== b.ready[i])) b.stale = true;
    b.ready = ready;
    b.readySync = ready.filter((id) => this.#byId.get(id)!.sync);
    b.readyVersion = this.#version;
  }

  /** Compiles a bucket's pipelines in the background; the bucket may use the candidate once done. */
  #prepare(s: Slot, b: Bucket): void {
    s.preparing.add(b.key);
    const t0 = this.#clock();
    this.#track(
      s.loaded!.prepare!([{ rows: b.rows, cols: b.cols }], [b.op])
        .then(
          () => {
            s.cold['pipeline compile'] = (s.cold['pipeline compile'] ?? 0) + (this.#clock() - t0);
            s.prepared.add(b.key);
          },
          (error) => this.#failed(s, b.op, error),
        )
        .finally(() => {
          s.preparing.delete(b.key);
          this.#version++;
        }),
    );
  }

  #bucketOf(call: OpCall): Bucket {
    return this.#selector.bucket(call.op.name as OpName, call.dtype, call.rows, call.cols);
  }

  /** Async entry: waits only for CPU candidates when nothing ready can serve; never for a GPU. */
  async callAsync(name: OpName, args: ArrayLike<unknown>): Promise<unknown> {
    this.#start();
    if (this.#mayGain(name)) await this.#settle();
    const call = this.#validate(name, args);
    if (call.rows === 0) return resultOf(call);
    const b = this.#bucketOf(call);
    this.#touch(b);
    if (b.ready.length === 0) {
      await this.#settle();
      this.#touch(b);
    }
    const letting = this.#background.size > 0 ? this.#letLoad(b) : undefined;
    if (letting) {
      await letting;
      this.#touch(b);
    }
    // What a retry on another candidate needs (there is none with one candidate).
    const retries = b.ready.length > 1;
    const originals = retries ? call.outputs.slice() : call.outputs;
    const saved = retries ? inPlaceInputs(call) : [];
    const tried: CandidateId[] = [];
    let lastError: unknown;
    for (;;) {
      const pick = this.#next(b, b.ready, tried);
      if (!pick) throw this.#exhausted(call, lastError, tried);
      const slot = this.#byId.get(pick.id)!;
      const attempt = tried.length === 0 ? call : this.#retry(call, originals, saved);
      const timed = this.#timed(b, pick.explore, tried);
      const t0 = timed ? this.#clock() : 0;
      try {
        if (slot.sync) runSync(slot.runnable!, attempt);
        else await slot.runnable!.run(attempt);
      } catch (error) {
        lastError = error;
        this.#failed(slot, b.op, error);
        tried.push(pick.id);
        continue;
      }
      this.#served(slot, b, timed ? this.#clock() - t0 : undefined, pick.explore, tried);
      return resultOf(attempt);
    }
  }

  /**
   * While a wasm candidate loads (load-wait.ts): the event loop's turn, at most once per
   * YIELD_EVERY_MS; and when one still loading is predicted faster for `b` than everything ready,
   * and the call would cost at least WAIT_MIN_MS on what is ready, a wait for that load of at most
   * the call's estimated cost. Not for WebGPU: a GPU never delays a call (its load, canary and
   * pipelines run when the application gives the event loop a turn; on a software adapter they
   * take seconds of this CPU, which a turn inside a call would charge to that call). Undefined
   * when there is nothing to do, so that the call does not pay for an await.
   */
  #letLoad(b: Bucket): Promise<void> | undefined {
    let loading: Slot | undefined;
    let faster: Slot | undefined;
    let readyMs = Number.NaN;
    for (const s of this.#slots) {
      if (s.backend !== 'wasm' || s.status !== 'loading' || s.loading === undefined) continue;
      loading = s;
      if (b.ready.length === 0 || this.#waitedMs >= WAIT_BUDGET_MS || faster) continue;
      if (Number.isNaN(readyMs)) {
        readyMs = Number.POSITIVE_INFINITY;
        for (const id of b.ready) readyMs = Math.min(readyMs, this.#selector.estimate(b, id));
      }
      if (readyMs >= WAIT_MIN_MS && this.#selector.estimate(b, s.id) < readyMs) faster = s;
    }
    if (faster) return this.#waitFor(faster.loading as Promise<void>, readyMs);
    if (!loading) return undefined;
    const now = this.#clock();
    if (now < this.#yieldAt) return undefined;
    this.#yieldAt = now + YIELD_EVERY_MS;
    return macrotask();
  }

  /** Waits for a load (#letLoad) at most `ms`, within what is left of WAIT_BUDGET_MS. */
  async #waitFor(loading: Promise<void>, ms: number): Promise<void> {
    // Real time, whatever clock the instance measures calls with: the budget bounds real delays.
    const t0 = performance.now();
    await settleWithin(loading, Math.min(ms, WAIT_BUDGET_MS - this.#waitedMs));
    this.#waitedMs += performance.now() - t0;
  }

  /** Sync entry: the synchronous candidates that are ready (core at once, wasm once loaded). */
  callSync(name: OpName, args: ArrayLike<unknown>): unknown {
    this.#start();
    const call = this.#validate(name, args);
    if (call.rows === 0) return resultOf(call);
    const b = this.#bucketOf(call);
    this.#touch(b);
    const ready = b.readySync;
    const retries = ready.length > 1;
    const originals = retries ? call.outputs.slice() : call.outputs;
    const saved = retries ? inPlaceInputs(call) : [];
    const tried: CandidateId[] = [];
    let lastError: unknown;
    for (;;) {
      // A bucket whose choice is asynchronous (WebGPU) keeps it: a sync call takes the cheapest sync candidate.
      const asyncChoice = tried.length === 0 && b.chosen !== undefined && !ready.includes(b.chosen);
      const pick = this.#next(b, ready, asyncChoice ? ['webgpu'] : tried);
      if (!pick) throw this.#exhausted(call, lastError, tried, true);
      const slot = this.#byId.get(pick.id)!;
      const attempt = tried.length === 0 ? call : this.#retry(call, originals, saved);
      const timed = this.#timed(b, pick.explore, tried);
      const t0 = timed ? this.#clock() : 0;
      try {
        runSync(slot.runnable!, attempt);
      } catch (error) {
        lastError = error;
        this.#failed(slot, b.op, error);
        tried.push(pick.id);
        continue;
      }
      this.#served(slot, b, timed ? this.#clock() - t0 : undefined, pick.explore, tried);
      return resultOf(attempt);
    }
  }

  /** The first attempt follows the cost table; a retry takes the cheapest candidate not yet tried. */
  #next(b: Bucket, ready: readonly CandidateId[], tried: readonly CandidateId[]) {
    if (tried.length === 0) return ready.length > 0 ? this.#selector.pick(b, ready) : undefined;
    let best: CandidateId | undefined;
    let bestMs = Number.POSITIVE_INFINITY;
    for (const id of ready) {
      if (tried.includes(id)) continue;
      const ms = this.#selector.estimate(b, id);
      if (ms < bestMs || best === undefined) {
        best = id;
        bestMs = ms;
      }
    }
    return best === undefined ? undefined : { id: best, explore: false };
  }

  /** A fresh attempt: the caller's in-place inputs restored, the original outputs. */
  #retry(call: OpCall, originals: OpCall['outputs'], saved: ReturnType<typeof inPlaceInputs>): OpCall {
    for (const { target, copy } of saved) target.set(copy as never);
    return attemptOf(call, originals);
  }

  /**
   * Whether to time this call. A settled bucket's choice is re-timed on one call in TIME_EVERY (the
   * ring of samples still follows a machine that changes): the clock reads and the bookkeeping are
   * most of auto's cost per call at small shapes, and the other calls need none of it.
   */
  #timed(b: Bucket, explore: boolean, tried: readonly CandidateId[]): boolean {
    return explore || tried.length > 0 || !b.settled || b.calls % TIME_EVERY === 0;
  }

  #served(slot: Slot, b: Bucket, ms: number | undefined, explore: boolean, tried: readonly CandidateId[]): void {
    if (ms !== undefined) this.#selector.record(b, slot.id, ms, explore);
    slot.served++;
    if (slot.breaker.consecutive > 0 || slot.breaker.openUntil > 0) slot.breaker.success();
    if (tried.length > 0) {
      for (let i = this.failures.length - 1; i >= 0 && i >= this.failures.length - tried.length; i--) {
        this.failures[i].servedBy = slot.id;
      }
    }
    if (b.dirty && this.#options.store) {
      b.dirty = false;
      this.#scheduleSave();
    }
  }

  #failed(slot: Slot, op: string, error: unknown): void {
    const e = error as { code?: string; message?: string };
    const now = this.#clock();
    this.failures.push({
      at: now - this.#createdAt,
      candidate: slot.id,
      op,
      code: e?.code ?? (error as Error)?.name ?? 'Error',
      message: e?.message ?? String(error),
    });
    // The device is gone, and its pipelines with it: buckets prepare again on the next device.
    if (e?.code === 'DEVICE_LOST') slot.prepared.clear();
    const coolDown = slot.breaker.failure(now);
    if (coolDown !== undefined) {
      this.demotions.push({
        at: now - this.#createdAt,
        candidate: slot.id,
        coolDownMs: coolDown,
        afterFailures: slot.breaker.threshold,
      });
      this.#nextExpiry = Math.min(this.#nextExpiry, slot.breaker.openUntil);
    }
    this.#version++;
  }

  #exhausted(call: OpCall, lastError: unknown, tried: readonly CandidateId[], sync = false): Error {
    if (tried.length > 0 && lastError instanceof Error) return lastError;
    const states = this.#slots.map((s) => `${s.id}: ${s.reason ?? s.status}`).join('; ');
    const hint = sync ? ' (the sync functions use core and wasm; wasm once ready() resolved)' : '';
    return new SoftmaxError(
      'BACKEND_UNAVAILABLE',
      `no backend can run ${call.op.name} on ${call.dtype} now${hint}: ${states}`,
      { cause: lastError },
    );
  }

  // ---- persistence -----------------------------------------------------------------------

  #fingerprint(): Fingerprint {
    const fp = hostFingerprint();
    for (const s of this.#slots) Object.assign(fp, s.loaded?.fingerprint);
    return fp;
  }

  /** Applies a record: rejected whole if a host field differs; per candidate when it loads. */
  #apply(profile: Profile, source: 'persisted' | 'imported'): ProfileReport {
    const report: ProfileReport = { source, applied: 0, rejectedCandidates: [] };
    this.profiles.push(report);
    const host = hostFingerprint();
    const mismatch = firstDifference(profile.fingerprint, host, HOST_FIELDS);
    if (mismatch) {
      report.rejected = mismatch;
      return report;
    }
    const pending: Pending = { source, fingerprint: profile.fingerprint, report, buckets: profile.buckets };
    report.applied = profile.buckets.length;
    this.#pending.push(pending);
    for (const s of this.#slots) if (s.status === 'ready') this.#applyPending(s);
    return report;
  }

  /** Seeds the buckets with a loaded candidate's entries whose fingerprint fields match. */
  #applyPending(slot: Slot): void {
    const current = this.#fingerprint();
    for (const p of this.#pending) {
      const hasEntries = p.buckets.some((b) => b.candidates[slot.id]);
      if (!hasEntries) continue;
      const mismatch = firstDifference(p.fingerprint, current, CANDIDATE_FIELDS[slot.id]);
      if (mismatch) {
        p.report.rejectedCandidates.push({ candidate: slot.id, ...mismatch });
      } else {
        for (const pb of p.buckets) {
          const e = pb.candidates[slot.id];
          if (!e) continue;
          const b = this.#selector.bucket(pb.op, pb.dtype, pb.rows, pb.cols);
          const s = b.samples(slot.id);
          // Measurements made here beat a record of another run.
          if (s.size === 0 || s.source !== 'measured') s.seed(e.median, e.spread, e.n, p.source);
          b.settled = true;
          b.readyVersion = -1;
        }
      }
      p.buckets = p.buckets.map((b) => {
        const { [slot.id]: _, ...rest } = b.candidates;
        return { ...b, candidates: rest };
      });
    }
    this.#pending = this.#pending.filter((p) => p.buckets.some((b) => Object.keys(b.candidates).length > 0));
    this.#version++;
  }

  #scheduleSave(): void {
    if (this.#saveTimer !== undefined || this.#disposed) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.#save();
    }, 200);
    (this.#saveTimer as { unref?: () => void }).unref?.();
  }

  #save(): void {
    const store = this.#options.store;
    if (!store) return;
    const text = JSON.stringify(this.exportProfile());
    this.#saving = this.#saving
      .then(() => store.set(STORE_KEY, text))
      .catch((error) => {
        this.#storeError = (error as Error).message;
      });
  }

  /** Writes the record now (dispose() does it too). */
  async flush(): Promise<void> {
    if (this.#saveTimer !== undefined) clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    this.#save();
    await this.#saving;
  }

  /** @internal the bucket a call would land in (tests read it). */
  bucketOf(name: OpName, dtype: Dtype, rows: number, cols: number): Bucket | undefined {
    for (const b of this.#selector.buckets.values()) {
      if (b.op === name && b.dtype === dtype && b.key === this.#selector.bucket(name, dtype, rows, cols).key) return b;
    }
    return undefined;
  }
}

export interface AutoSoftmax extends AsyncOps, SyncOps {}

for (const name of OP_NAMES) {
  Object.defineProperty(AutoSoftmax.prototype, name, {
    value: function (this: AutoSoftmax, ...args: unknown[]) {
      try {
        return this.callAsync(name, args);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(AutoSoftmax.prototype, `${name}Sync`, {
    value: function (this: AutoSoftmax, ...args: unknown[]) {
      return this.callSync(name, args);
    },
    writable: true,
    configurable: true,
  });
}

/**
 * A new instance with its own state (the module-level functions use a default one).
 *
 * @example
 * ```ts
 * import { createSoftmax, jsonFileStore } from '@softmax/auto';
 *
 * const auto = createSoftmax({ store: jsonFileStore('.softmax-profile.json') }); // learns, and remembers
 * const pinned = createSoftmax({ backend: 'wasm' }); // no measuring, no fallback
 * ```
 */
export function createSoftmax(options?: SoftmaxAutoOptions): AutoSoftmax {
  return new AutoSoftmax(options);
}

/** The default instance, forced by SOFTMAX_BACKEND when set. */
export function createDefault(): AutoSoftmax {
  return new AutoSoftmax({}, { forced: backendFromEnv() });
}

export type { ChoiceSource };
