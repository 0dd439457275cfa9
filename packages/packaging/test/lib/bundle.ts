import { join } from 'node:path';
import * as esbuild from 'esbuild';
import webpack from 'webpack';

export interface Built {
  /** Warnings raised by a module (webpack: a module's own; esbuild: all of them). */
  warnings: string[];
  /** webpack's performance hints about the app's bundle as a whole (sizes, chunking): printed, not judged here. */
  hints?: string[];
}

/** A webpack 5 production build with nothing but entry, target and output (plus externals for Node). */
export function webpackBuild(project: string, options: { entry: string; target: 'web' | 'node'; outDir: string }) {
  const config: webpack.Configuration = {
    mode: 'production',
    context: project,
    target: options.target,
    entry: join(project, options.entry),
    output: {
      path: join(project, options.outDir),
      // .cjs: the consumer project is "type": "module", and webpack's Node chunks are CommonJS.
      filename: options.target === 'node' ? 'main.cjs' : 'main.js',
      chunkFilename: options.target === 'node' ? '[id].chunk.cjs' : '[id].chunk.js',
      clean: true,
    },
    // Dawn is a native addon (dawn.node): a Node bundle leaves it to Node, as for every native package.
    externals: options.target === 'node' ? { webgpu: 'import webgpu' } : undefined,
    infrastructureLogging: { level: 'error' },
  };
  return new Promise<Built>((resolve, reject) => {
    webpack(config, (error, stats) => {
      if (error) return reject(error);
      if (!stats) return reject(new Error('webpack returned no stats'));
      const info = stats.toJson({ all: false, errors: true, warnings: true });
      if (stats.hasErrors()) {
        return reject(new Error(`webpack errors:\n${info.errors?.map((e) => e.message).join('\n')}`));
      }
      const all = info.warnings ?? [];
      resolve({
        warnings: all.filter((w) => w.moduleName).map((w) => `${w.moduleName}: ${w.message}`),
        hints: all.filter((w) => !w.moduleName).map((w) => w.message.split('\n')[0]),
      });
    });
  });
}

/** An esbuild bundle with bundle, platform, format and output only (plus webgpu external for Node). */
export async function esbuildBuild(
  project: string,
  options: { entries: string[]; platform: 'browser' | 'node'; outDir: string },
): Promise<Built> {
  const result = await esbuild.build({
    absWorkingDir: project,
    entryPoints: options.entries.map((e) => join(project, e)),
    bundle: true,
    minify: true,
    platform: options.platform,
    format: 'esm',
    splitting: options.platform === 'browser',
    outdir: join(project, options.outDir),
    outExtension: options.platform === 'node' ? { '.js': '.mjs' } : undefined,
    external: options.platform === 'node' ? ['webgpu'] : [],
    logLevel: 'silent',
  });
  return { warnings: result.warnings.map((w) => `${w.location?.file ?? ''}: ${w.text}`) };
}
