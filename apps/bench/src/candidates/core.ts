import { createCoreBackend } from '@softmax/core';
import corePackage from '@softmax/core/package.json';
import type { Candidate } from '../candidate.js';
import { backendLoaded } from './backend-candidate.js';

export const core: Candidate = {
  id: 'core',
  label: '@softmax/core',
  kind: 'ours',
  description: 'the float64 reference backend (plain JS), array in → array out',
  async load() {
    return backendLoaded(createCoreBackend(), corePackage.version, { isAsync: false });
  },
};
