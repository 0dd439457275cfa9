import pkg from '../package.json';

/** This package's version: part of the fingerprint (a new release may choose differently). */
export const VERSION: string = pkg.version;
