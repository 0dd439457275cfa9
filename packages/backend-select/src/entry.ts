/**
 * The ESM build's entry (dist/index.js): index.ts's exports, the implementation's reached through
 * static.ts (see there why). Its types and documentation are index.ts's; the package's tests check
 * that both builds export the same names.
 */
export * from './functions.js';
export * from './static.js';
