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
}

function workerConstructor(): WorkerConstructor | undefined {
  const process = (globalThis as { process?: NodeProcess }).process;
  const module = process?.getBuiltinModule?.('node:worker_threads') as { Worker?: WorkerConstructor } | undefined;
  return module?.Worker;
}

/** Why this runtime cannot run the kernel on threads, or undefined when it can. */
export function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is not available';
  if (typeof Atomics?.wait !== 'function') return 'Atomics.wait is not available';
  if (workerConstructor() === undefined) {
    return 'worker threads are used in Node ≥ 20.16 only (process.getBuiltinModule); browsers run single-threaded';
  }
  return undefined;
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
