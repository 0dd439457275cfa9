// Types of simd-wasm.js, which scripts/build.mjs generates from pkg/*.wasm (not committed).
/** The SIMD128 build of the kernel, zlib-deflated, base64. */
export declare const SIMD_WASM_DEFLATE: string;
