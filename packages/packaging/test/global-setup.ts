import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { prepareScratch } from './lib/scratch.js';

declare module 'vitest' {
  export interface ProvidedContext {
    scratch: import('./lib/scratch.js').Scratch;
  }
}

// One pack and one install for every test file.
export default function setup(project: TestProject) {
  const scratch = prepareScratch();
  project.provide('scratch', scratch);
  return () => {
    if (process.env.SOFTMAX_KEEP_SCRATCH === '1') console.log(`kept ${scratch.base}`);
    else rmSync(scratch.base, { recursive: true, force: true });
  };
}
