import { SoftmaxError } from '@softmax/core';
import {
  ARGS,
  JOB_ARGS,
  JOB_LENGTH,
  type KernelFunction,
  MAX_CHUNKS,
  MAX_WORKERS,
  RESULTS,
  runChunks,
  STATE,
  STRIDES,
  WORKER_STATES,
  type WorkerData,
  workerMain,
} from './chunks.js';
import { nodeWorkers, type WorkerLike } from './runtime.js';

/** Each worker's shadow stack (the calling thread keeps the module's own). */
export const WORKER_STACK_BYTES = 64 * 1024;

/** One kernel call split into chunks; see chunks.ts for how a chunk's arguments are derived. */
export interface Job {
  fn: number;
  /** The whole call's arguments. */
  args: readonly number[];
  /**
   * Bytes per item of each leading argument that is a pointer, moved to each chunk's first item:
   * a row of a matrix operand, one element of a one-per-row output. Arguments past them pass
   * unchanged.
   */
  strides: readonly number[];
  /** Which argument holds the item count (rows, or elements of a row piece). */
  countAt: number;
  items: number;
  /** Items per chunk (the last chunk takes the rest). */
  perChunk: number;
}

/**
 * Worker threads that run chunks of kernel calls on the backend's shared memory. The calling
 * thread posts a job, takes chunks itself, then takes back the job from any worker that has not
 * started on it (so a worker that is slow to wake, or still starting, costs nothing) and waits
 * for the others. Calls stay synchronous: the calling thread blocks in `Atomics.wait`, which Node
 * allows on its main thread (browsers do not, hence Node only for now).
 *
 * Workers start on the first job, not before: creating a backend stays cheap, and a process that
 * never makes a large call never starts a thread. They are unref'd (they never keep a process
 * alive) and stopped by `dispose()` or when the backend is garbage-collected.
 */
export class ThreadPool {
  readonly #fns: readonly KernelFunction[];
  readonly #names: readonly string[];
  readonly #module: WebAssembly.Module;
  readonly #memory: WebAssembly.Memory;
  readonly #stacks: readonly number[];
  readonly #sync = new Int32Array(new SharedArrayBuffer(4 * (WORKER_STATES + MAX_WORKERS)));
  readonly #job = new Float64Array(new SharedArrayBuffer(8 * JOB_LENGTH));
  #workers: WorkerLike[] | undefined;

  /** `stacks`: one block of WORKER_STACK_BYTES per worker, allocated by the caller in `memory`. */
  constructor(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    exports: Record<string, unknown>,
    names: readonly string[],
    stacks: readonly number[],
  ) {
    this.#module = module;
    this.#memory = memory;
    this.#names = names;
    this.#fns = names.map((name) => exports[name] as KernelFunction);
    this.#stacks = stacks;
  }

  /** Runs a job on every thread; returns the chunks' results (a view, valid until the next job). */
  run(job: Job): Float64Array {
    this.post(job);
    return this.join();
  }

  /**
   * Wakes the workers on a job and returns at once: the calling thread may do other work (copy
   * the next block in, say) while they take chunks, then must call `join()` before anything else.
   */
  post(job: Job): void {
    writeJob(this.#job, job);
    const workers = this.#start();
    const sync = this.#sync;
    Atomics.store(sync, 0, 0);
    Atomics.store(sync, 1, 0);
    for (let w = 0; w < workers.length; w++) {
      Atomics.store(sync, WORKER_STATES + w, STATE.posted);
      Atomics.notify(sync, WORKER_STATES + w, 1);
    }
  }

  /** Takes the posted job's remaining chunks, waits for the workers' last ones, returns the results. */
  join(): Float64Array {
    const j = this.#job;
    const sync = this.#sync;
    runChunks(this.#fns, sync, j, false);
    const workers = this.#workers ?? [];
    for (let w = 0; w < workers.length; w++) {
      const at = WORKER_STATES + w;
      if (Atomics.compareExchange(sync, at, STATE.posted, STATE.idle) === STATE.posted) continue;
      // The worker has a chunk of this job in hand: spin while it finishes, then sleep.
      for (let spin = 0; Atomics.load(sync, at) === STATE.working; spin++) {
        if (spin > 20000) Atomics.wait(sync, at, STATE.working);
      }
    }
    if (Atomics.load(sync, 1) !== 0) {
      throw new SoftmaxError('BACKEND_UNAVAILABLE', `the wasm kernel ${this.#names[j[0]]} trapped on a worker thread`);
    }
    return j.subarray(RESULTS, RESULTS + j[1]);
  }

  /** Threads in all: the workers and the calling thread. */
  get threads(): number {
    return this.#stacks.length + 1;
  }

  /** Chunks the worker threads have run so far (the calling thread's are not counted). */
  get workerChunks(): number {
    return Atomics.load(this.#sync, 2);
  }

  /** Stops the workers (idempotent). */
  dispose(): void {
    stopWorkers({ sync: this.#sync, workers: this.#workers ?? [] });
    stopOnCollect.unregister(this);
    this.#workers = [];
  }

  /**
   * The workers, started on first use. Where a worker cannot be created (Node's permission model
   * without --allow-worker, say), the pool runs on the calling thread alone.
   */
  #start(): WorkerLike[] {
    if (this.#workers) return this.#workers;
    const workers: WorkerLike[] = [];
    this.#workers = workers;
    // Evaluated as a script or as a module (a worker inherits flags such as --input-type=module),
    // so it reaches workerData without `require` or `import`.
    const source = [
      '"use strict";',
      `const runChunks = ${runChunks.toString()};`,
      `const workerMain = ${workerMain.toString()};`,
      'workerMain(runChunks, process.getBuiltinModule("node:worker_threads").workerData);',
    ].join('\n');
    try {
      const Worker = nodeWorkers();
      for (let index = 0; index < this.#stacks.length; index++) {
        const data: WorkerData = {
          module: this.#module,
          memory: this.#memory,
          names: this.#names,
          sync: this.#sync,
          job: this.#job,
          index,
          stackTop: this.#stacks[index] + WORKER_STACK_BYTES,
        };
        const worker = new Worker(source, { eval: true, workerData: data });
        worker.unref();
        // A worker that failed has marked itself stopped (see workerMain): the calling thread does
        // its share from then on. The event must be handled, or Node would end the process; the
        // listener is a module-level function so that it keeps nothing of this pool alive.
        worker.on('error', ignoreError);
        workers.push(worker);
      }
    } catch {
      stopWorkers({ sync: this.#sync, workers });
      workers.length = 0;
    }
    // The held value must not reach the pool, or the pool would never be collected.
    stopOnCollect.register(this, { sync: this.#sync, workers }, this);
    return workers;
  }
}

/** Writes `job` into the shared job array in chunks.ts's layout. */
export function writeJob(j: Float64Array, job: Job): void {
  const chunks = Math.ceil(job.items / job.perChunk);
  if (chunks > MAX_CHUNKS || job.args.length > JOB_ARGS) throw new RangeError('job too large for the pool');
  j[0] = job.fn;
  j[1] = chunks;
  j[2] = job.perChunk;
  j[3] = job.items;
  j[4] = job.countAt;
  j[5] = job.args.length;
  for (let i = 0; i < job.args.length; i++) {
    j[ARGS + i] = job.args[i];
    j[STRIDES + i] = i < job.strides.length ? job.strides[i] : 0;
  }
}

interface Stoppable {
  sync: Int32Array;
  workers: readonly WorkerLike[];
}

function stopWorkers({ sync, workers }: Stoppable): void {
  for (let w = 0; w < workers.length; w++) {
    Atomics.store(sync, WORKER_STATES + w, STATE.stop);
    Atomics.notify(sync, WORKER_STATES + w);
    void workers[w].terminate();
  }
}

function ignoreError(): void {}

/** A pool dropped without dispose() stops its workers when collected. */
const stopOnCollect = new FinalizationRegistry<Stoppable>(stopWorkers);
