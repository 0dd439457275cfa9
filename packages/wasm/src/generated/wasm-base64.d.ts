// Types of wasm-base64.js, which scripts/build.mjs generates from pkg/*.wasm (not committed).
/** The SIMD128 build of the kernel, base64. */
export declare const SIMD_WASM_BASE64: string;
/** The scalar (MVP) build of the kernel, base64. */
export declare const SCALAR_WASM_BASE64: string;
/** The SIMD128 build over an imported shared memory, for worker threads (see src/threads/). */
export declare const THREADS_WASM_BASE64: string;
