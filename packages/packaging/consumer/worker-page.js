// The worker page's own script: starts the module worker and relays one run.
globalThis.softmaxRun = (x, cols) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = (event) => {
      resolve(event.data);
      worker.terminate();
    };
    worker.onerror = (event) => reject(new Error(`worker failed: ${event.message}`));
    worker.postMessage({ x, cols });
  });
globalThis.softmaxReady = true;
