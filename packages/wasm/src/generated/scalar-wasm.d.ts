// Types of scalar-wasm.js, which scripts/build.mjs generates from pkg/*.wasm (not committed).
/** The scalar (MVP) build of the kernel, base64. */
export declare const SCALAR_WASM_BASE64: string;
