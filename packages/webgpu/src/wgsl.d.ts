// WGSL sources are inlined as strings at build time (tsup's and vitest's '.wgsl' text loader).
declare module '*.wgsl' {
  const source: string;
  export default source;
}
