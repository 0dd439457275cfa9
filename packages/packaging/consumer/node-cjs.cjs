// Every package through require(); run.js holds no imports, so only the packages' CJS builds load.
const core = require('@softmax/core');
const wasm = require('@softmax/wasm');
const webgpu = require('@softmax/webgpu');
const auto = require('@softmax/auto');

// The dual-package hazard: an error thrown by code that reached @softmax/core through import
// (wasm's ESM build) checked against core's CommonJS class, and the other way round.
async function dualPackage() {
  const bad = () => new Float32Array(6); // 6 elements do not fill rows of 4: INVALID_SHAPE
  const esmWasm = await import('@softmax/wasm');
  const esmCore = await import('@softmax/core');
  const caught = async (fn) => {
    try {
      await fn();
    } catch (error) {
      return error;
    }
    return undefined;
  };
  const fromEsm = await caught(async () => (await esmWasm.createWasmBackend()).softmax(bad(), { cols: 4 }));
  const fromCjs = await caught(async () => (await wasm.createWasmBackend()).softmax(bad(), { cols: 4 }));
  return {
    esmCode: fromEsm?.code,
    cjsCode: fromCjs?.code,
    esmErrorIsCjsClass: fromEsm instanceof core.SoftmaxError,
    cjsErrorIsEsmClass: fromCjs instanceof esmCore.SoftmaxError,
  };
}

(async () => {
  const { run } = await import('./run.js');
  const { x, cols } = JSON.parse(process.argv[2]);
  const out = await run({ core, wasm, webgpu, auto }, x, cols);
  out.dualPackage = await dualPackage();
  process.stdout.write(`${JSON.stringify(out)}\n`);
})();
