/**
 * What the runtime offers beyond the language: the suite runs in Node and in browsers, so Node's
 * modules are taken through process.getBuiltinModule (Node ≥ 20.16), which a bundler leaves alone.
 */

interface NodeProcess {
  getBuiltinModule?: (id: string) => unknown;
  env?: Record<string, string | undefined>;
}

const nodeProcess = (globalThis as { process?: NodeProcess }).process;

/** A Node built-in module (e.g. 'node:vm'), or undefined where there is none. */
export function nodeBuiltin<T>(id: string): T | undefined {
  return nodeProcess?.getBuiltinModule?.(id) as T | undefined;
}

/** An environment variable, or undefined (always, outside Node). */
export function environmentVariable(name: string): string | undefined {
  return nodeProcess?.env?.[name];
}
