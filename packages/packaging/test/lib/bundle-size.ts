import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

/**
 * What a browser bundle of `code` weighs, as the budgets count it: esbuild for the
 * browser, minified, ESM with code splitting (so import() becomes chunks), each file gzipped
 * (level 9) on its own. The packages are resolved by name, from `resolveDir`, to their built dist.
 */
export interface BundleSizes {
  /** Gzip bytes of each output file, by name. */
  files: Record<string, number>;
  /** The entry and every chunk it imports statically: what loads before any import() runs. */
  entry: number;
  /** Gzip bytes of the entry, plus every chunk reached from it through import() of a chunk for which `follow` holds. */
  loaded: number;
  /** The bundle's text, all files. */
  text: string;
  metafile: Metafile;
}

export async function bundleSizes(
  code: string,
  resolveDir: string,
  follow: (inputs: string[]) => boolean = () => false,
): Promise<BundleSizes> {
  const result = await build({
    stdin: { contents: code, resolveDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    splitting: true,
    outdir: '/virtual-out',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const gz = new Map(
    result.outputFiles.map((f) => [f.path.replace(/.*\/virtual-out\//, ''), gzipSync(f.contents, { level: 9 }).length]),
  );
  const outputs = result.metafile.outputs;
  const name = (path: string) => path.replace(/.*virtual-out\//, '');
  const entryName = Object.keys(outputs).find((path) => outputs[path].entryPoint !== undefined);
  if (entryName === undefined) throw new Error('esbuild produced no entry');
  const closure = (start: string, dynamic: boolean, seen = new Set<string>()): Set<string> => {
    if (seen.has(start)) return seen;
    seen.add(start);
    for (const imported of outputs[start].imports) {
      if (!(imported.path in outputs)) continue;
      if (imported.kind === 'import-statement') closure(imported.path, dynamic, seen);
      else if (dynamic && imported.kind === 'dynamic-import' && follow(Object.keys(outputs[imported.path].inputs)))
        closure(imported.path, dynamic, seen);
    }
    return seen;
  };
  const sum = (paths: Set<string>) => [...paths].reduce((total, path) => total + (gz.get(name(path)) ?? 0), 0);
  return {
    files: Object.fromEntries(gz),
    entry: sum(closure(entryName, false)),
    loaded: sum(closure(entryName, true)),
    text: result.outputFiles.map((f) => f.text).join('\n'),
    metafile: result.metafile,
  };
}

/** Bytes as the budgets and READMEs quote them: KB of 1000 bytes, two decimals. */
export const kb = (bytes: number) => `${(bytes / 1000).toFixed(2)} KB`;
