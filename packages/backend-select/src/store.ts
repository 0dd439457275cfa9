import { SoftmaxError } from '@softmax/core';

/**
 * Persistence: a small key-value interface (either synchronous or Promise-returning). auto keeps
 * one record (a profile, as JSON) under one key. Off unless a store is given.
 */
export interface Store {
  /** The value kept under `key` (null or undefined when none). */
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  /** Keeps `value` under `key`. */
  set(key: string, value: string): void | Promise<void>;
}

/**
 * The key auto's record is kept under.
 *
 * @example
 * ```ts
 * import { STORE_KEY } from '@softmax/auto';
 *
 * localStorage.removeItem(STORE_KEY); // forget what auto measured in this browser
 * ```
 */
export const STORE_KEY = 'softmax-auto/profile/v1';

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * A store over the browser's `localStorage` (or any Storage).
 *
 * @example
 * ```ts
 * import { createSoftmax, localStorageStore } from '@softmax/auto';
 *
 * const auto = createSoftmax({ store: localStorageStore() }); // the next page load starts from these measurements
 * ```
 */
export function localStorageStore(storage?: StorageLike): Store {
  const s = storage ?? (globalThis as { localStorage?: StorageLike }).localStorage;
  if (!s) throw new SoftmaxError('INVALID_OPTION', 'localStorageStore: there is no localStorage here');
  return { get: (key) => s.getItem(key), set: (key, value) => s.setItem(key, value) };
}

interface Fs {
  readFileSync(path: string, encoding: 'utf8'): string;
  writeFileSync(path: string, data: string): void;
  renameSync(from: string, to: string): void;
}

/**
 * A store over one JSON file (Node): an object of key → value. Written to a temporary file and
 * renamed, so a crash mid-write never leaves half a file. Reached through process.getBuiltinModule
 * rather than an import, so browser bundles of this package never see node:fs.
 *
 * @example
 * ```ts
 * import { createSoftmax, jsonFileStore } from '@softmax/auto';
 *
 * const auto = createSoftmax({ store: jsonFileStore('.softmax-profile.json') });
 * await auto.dispose(); // writes the record; the next process reads it back
 * ```
 */
export function jsonFileStore(path: string): Store {
  const fs = (globalThis as { process?: { getBuiltinModule?(name: string): unknown } }).process?.getBuiltinModule?.(
    'node:fs',
  ) as Fs | undefined;
  if (!fs) throw new SoftmaxError('INVALID_OPTION', 'jsonFileStore needs Node ≥ 20.16 (process.getBuiltinModule)');
  const read = (): Record<string, string> => {
    let text: string;
    try {
      text = fs.readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return {};
      throw error;
    }
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  };
  return {
    get: (key) => read()[key],
    set(key, value) {
      const all = read();
      all[key] = value;
      const tmp = `${path}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${JSON.stringify(all, null, 1)}\n`);
      fs.renameSync(tmp, path);
    },
  };
}
