/**
 * Where worker threads come from. Only Node for now: its main thread may block in `Atomics.wait`
 * (a browser's may not) and `process.getBuiltinModule` (Node ≥ 20.16) reaches `worker_threads`
 * without an import statement that browser bundlers would have to resolve.
 */

/** The part of Node's `Worker` the pool uses. */
export interface WorkerLike {
  unref(): void;
  on(event: 'error', listener: (error: unknown) => void): void;
  terminate(): Promise<number>;
}

type WorkerConstructor = new (source: string, options: { eval: true; workerData: unknown }) => WorkerLike;

interface NodeProcess {
  getBuiltinModule?(name: string): unknown;
  /** Node's permission model (--permission / --experimental-permission). */
  permission?: { has?(scope: string): boolean };
}

function workerConstructor(): WorkerConstructor | undefined {
  const process = (globalThis as { process?: NodeProcess }).process;
  const module = process?.getBuiltinModule?.('node:worker_threads') as { Worker?: WorkerConstructor } | undefined;
  return module?.Worker;
}

/** Why this runtime cannot run the kernel on threads, or undefined when it can. */
export function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is not available';
  if (!mayBlock()) return 'this thread may not block in Atomics.wait';
  if (workerConstructor() === undefined) {
    return 'worker threads are used in Node ≥ 20.16 only (process.getBuiltinModule); browsers run single-threaded';
  }
  if ((globalThis as { process?: NodeProcess }).process?.permission?.has?.('worker') === false) {
    return "Node's permission model does not allow worker threads (--allow-worker)";
  }
  return undefined;
}

/**
 * Whether this thread may block: the calling thread waits for the workers in `Atomics.wait`, which
 * throws where the agent cannot suspend (a browser's main thread, an Electron renderer), whatever
 * the value. A zero timeout on a value that differs returns at once where it is allowed.
 */
function mayBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** The logical processors this process may use (Node's `os.availableParallelism`), else 1. */
export function availableThreads(): number {
  const process = (globalThis as { process?: NodeProcess }).process;
  const os = process?.getBuiltinModule?.('node:os') as { availableParallelism?(): number } | undefined;
  return Math.max(1, os?.availableParallelism?.() ?? 1);
}

export function nodeWorkers(): WorkerConstructor {
  const Worker = workerConstructor();
  if (!Worker) throw new Error(threadsUnavailable());
  return Worker;
}
