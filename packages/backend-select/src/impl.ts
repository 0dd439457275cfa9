/**
 * The implementation's exports: what the async functions import() at their first call and what
 * the sync twins and the package's other exports reach statically.
 */
export { defaultInstance } from './default-instance.js';
export { formatExplain } from './explain.js';
export { AutoSoftmax, createSoftmax } from './instance.js';
export { jsonFileStore, localStorageStore, STORE_KEY } from './store.js';
