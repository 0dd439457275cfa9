import * as impl from './impl.js';

/**
 * The ESM build's static exports (see tsup.config.ts): impl.ts's exports and the sync twins as
 * bindings of this module, built as a file of its own. esbuild puts a file that a page's entry
 * reaches in the entry's chunk even when none of it is used, following re-exports to the file
 * that defines them: through this file, which the import() of impl.js does not use, a bundle of
 * the async functions alone reaches none of the implementation.
 */
export * from './sync.js';
export const defaultInstance = impl.defaultInstance;
export const formatExplain = impl.formatExplain;
export const AutoSoftmax = impl.AutoSoftmax;
export const createSoftmax = impl.createSoftmax;
export const jsonFileStore = impl.jsonFileStore;
export const localStorageStore = impl.localStorageStore;
export const STORE_KEY = impl.STORE_KEY;
