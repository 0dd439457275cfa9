// Types of threads-wasm.js, which scripts/build.mjs generates from pkg/*.wasm (not committed).
/** The SIMD128 build over an imported shared memory, for worker threads (see src/threads/), zlib-deflated, base64. */
export declare const THREADS_WASM_DEFLATE: string;
