/**
 * What to tell the user when no GPU can be had, per runtime: a browser user can change a flag or
 * look at chrome://gpu, a Node user installs or points at a Vulkan driver. Kept apart from the
 * loaders so each runtime's build carries the same words and the tests read them in one place.
 */

/** What `navigator.gpu` was, in a runtime without Node's Dawn fallback. */
export function noNavigatorGpu(nav: unknown): string {
  const said =
    nav === undefined || nav === null
      ? 'there is no navigator (not a window or worker)'
      : 'navigator.gpu is undefined (this browser exposes no WebGPU here)';
  return (
    `${said}. WebGPU needs a secure context (https or http://localhost); in Chrome/Edge before it is on by ` +
    'default, enable chrome://flags/#enable-unsafe-webgpu (or start it with --enable-unsafe-webgpu); ' +
    'in Firefox set dom.webgpu.enabled; or pass options.gpu / options.device'
  );
}

/** `requestAdapter()` resolved to null: where the GPU object came from decides the advice. */
export function noAdapter(runtime: 'browser' | 'node'): string {
  if (runtime === 'browser') {
    return (
      'navigator.gpu.requestAdapter() returned null (the browser has WebGPU but no usable adapter: ' +
      'the GPU or its driver may be on the blocklist, see chrome://gpu; --enable-unsafe-webgpu or ' +
      'chrome://flags/#enable-unsafe-webgpu lifts it, and headless Chrome needs that flag for its software adapter)'
    );
  }
  return 'requestAdapter() returned null (no usable GPU driver; in Node on Linux set VK_ICD_FILENAMES to a Vulkan driver, e.g. SwiftShader)';
}
