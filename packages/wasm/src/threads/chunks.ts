/**
 * What the calling thread and the worker threads both run. These functions are sent to the workers
 * as source text (`Function.prototype.toString`), so they use nothing but their arguments and
 * JavaScript built-ins: no imports, no module-level names.
 *
 * The job (a Float64Array over a SharedArrayBuffer, written by the calling thread before it wakes
 * anyone) describes one kernel call split into chunks of rows or of columns:
 *   [0] function index   [1] chunks   [2] items per chunk   [3] items in all
 *   [4] index of the count argument   [5] argument count
 *   [8 .. 8 + JOB_ARGS) the whole call's arguments
 *   [STRIDES .. STRIDES + JOB_ARGS) each argument's bytes per item: a pointer's stride (a row of
 *     the matrix, or one element of a one-per-row output), 0 for the other arguments
 *   [RESULTS ..) chunk results
 * A chunk's call is the whole call's with each pointer argument moved to the chunk's first item
 * (by its own stride) and the count argument replaced by the chunk's item count.
 *
 * `sync` (an Int32Array over another SharedArrayBuffer): [0] next chunk to take, [1] error flag,
 * [2] chunks the workers have run (a diagnostic), [WORKER_STATES + w] worker w's state (see STATE).
 * The functions below write these indices as literals, since they cannot see module names.
 */
export const WORKER_STATES = 3;
/** Most worker threads a pool can hold (the size of `sync`). */
export const MAX_WORKERS = 64;

/** Indices into the job array. */
export const ARGS = 8;
/** Cross-entropy's kernels take the most: 6 pointers, rows, cols and 6 scalars. */
export const JOB_ARGS = 16;
export const STRIDES = ARGS + JOB_ARGS;
export const RESULTS = STRIDES + JOB_ARGS;
export const MAX_CHUNKS = 64;
export const JOB_LENGTH = RESULTS + MAX_CHUNKS;

/** Worker states: idle, job posted, working on it, told to stop. */
export const STATE = { idle: 0, posted: 1, working: 2, stop: 3 } as const;

export type KernelFunction = (...args: number[]) => number | undefined;

/**
 * Takes chunks until none is left. Each chunk is claimed by one atomic increment, so whichever
 * threads are awake share the work; results land by chunk index, so the combined result does not
 * depend on which thread ran what.
 */
export function runChunks(fns: readonly KernelFunction[], sync: Int32Array, job: Float64Array, worker: boolean): void {
  const fn = fns[job[0]];
  const count = job[1];
  const per = job[2];
  const total = job[3];
  const countAt = job[4];
  const args: number[] = new Array(job[5]);
  for (;;) {
    const c = Atomics.add(sync, 0, 1);
    if (c >= count) return;
    const start = c * per;
    for (let i = 0; i < args.length; i++) {
      // Other arguments pass unchanged (a −0 stays −0).
      const stride = job[24 + i];
      args[i] = stride === 0 ? job[8 + i] : job[8 + i] + start * stride;
    }
    args[countAt] = Math.min(per, total - start);
    try {
      job[40 + c] = fn(...args) ?? 0;
      if (worker) Atomics.add(sync, 2, 1);
    } catch {
      // A trap in the kernel (a bug): the calling thread reports it once all chunks are done.
      job[40 + c] = Number.NaN;
      Atomics.store(sync, 1, 1);
    }
  }
}

/** The data a worker starts with. */
export interface WorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  names: readonly string[];
  sync: Int32Array;
  job: Float64Array;
  /** This worker's index (its state is sync[3 + index]). */
  index: number;
  /** Top of this worker's own shadow stack (the module's stack grows down). */
  stackTop: number;
}

/**
 * A worker's whole life: instantiate the kernel on the shared memory with its own stack, then
 * wait until a job is posted, claim it (posted → working) unless the caller took it back first,
 * run chunks, go idle and wake the caller. If anything throws outside a kernel call, the worker
 * marks itself stopped (and the job failed, if it held a chunk) so that the caller never waits
 * on it.
 */
export function workerMain(run: typeof runChunks, data: WorkerData): void {
  const { sync, job, index } = data;
  const at = 3 + index;
  try {
    const exports = new WebAssembly.Instance(data.module, { env: { memory: data.memory } }).exports;
    const stackPointer = exports.__stack_pointer as WebAssembly.Global;
    stackPointer.value = data.stackTop;
    const fns = data.names.map((name) => exports[name] as KernelFunction);
    for (;;) {
      // Spin a little before sleeping: the calls of one softmax (the passes of a split row) and
      // back-to-back calls post their jobs microseconds apart, sooner than a sleeping thread wakes.
      let state = Atomics.load(sync, at);
      for (let spin = 0; state === 0 && spin < 20000; spin++) state = Atomics.load(sync, at);
      if (state === 0) {
        Atomics.wait(sync, at, 0);
        state = Atomics.load(sync, at);
      }
      if (state === 3) return;
      if (state !== 1 || Atomics.compareExchange(sync, at, 1, 2) !== 1) continue;
      run(fns, sync, job, true);
      // A trap skips the kernel's epilogue, leaving its frame on the shadow stack: start each job
      // from the top again (between jobs nothing lives there).
      stackPointer.value = data.stackTop;
      Atomics.store(sync, at, 0);
      Atomics.notify(sync, at);
    }
  } finally {
    if (Atomics.exchange(sync, at, 3) === 2) Atomics.store(sync, 1, 1);
    Atomics.notify(sync, at);
  }
}
