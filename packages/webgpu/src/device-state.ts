import { SoftmaxError } from '@softmax/core';
import { type Acquired, acquireDevice } from './device.js';
import { Kernels } from './kernels.js';
import type { WebGPUBackendOptions } from './options.js';
import { trackDevice } from './ownership.js';
import { BufferPool } from './pool.js';
import { traitsOf } from './traits.js';

/**
 * The backend's device and what lives on it, and what happens when it is lost: calls in flight
 * reject at once with DEVICE_LOST, and the next call gets a new device (when the backend created
 * the first one), with new pipelines and pools, since nothing of a lost device can be reused.
 */

/** Everything the backend keeps on one device. */
export interface DeviceState {
  device: GPUDevice;
  kernels: Kernels;
  pool: BufferPool;
  lost: boolean;
  /** Why, once lost. */
  lostError?: SoftmaxError;
  /**
   * Calls in flight, each as the function that ends its wait: device.lost calls them all with
   * DEVICE_LOST, and each removes itself when it settles. (Racing every call against one promise
   * that settles only on a loss left a reaction on it per call: a leak without bound.)
   */
  waiters: Set<(lost: SoftmaxError) => void>;
  /**
   * Scratch of the GPU-resident API: the partials of split rows, copies of inputs that are also
   * outputs, and a per-row output nobody reads (crossEntropy's lse when not asked for). Replaced
   * ones stay alive until dispose (an encoder may still use them).
   */
  scratch: { parts?: GPUBuffer; rows?: GPUBuffer; work?: GPUBuffer; copies: GPUBuffer[]; retired: GPUBuffer[] };
}

export const disposedError = (cause?: unknown) =>
  new SoftmaxError(
    'BACKEND_UNAVAILABLE',
    'the WebGPU backend was disposed',
    cause === undefined ? undefined : { cause },
  );

/** `work`'s outcome, or DEVICE_LOST as soon as the device is lost (the work then ends unobserved). */
export function orLost<T>(state: DeviceState, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (state.lostError) reject(state.lostError);
    state.waiters.add(reject);
    work.then(resolve, reject).finally(() => state.waiters.delete(reject));
  });
}

/** Whether the device is lost within `ms` milliseconds (a failed map may come just before the loss). */
export function lostWithin(state: DeviceState, ms: number): Promise<boolean> {
  if (state.lost) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      state.waiters.delete(done);
      resolve(state.lost);
    };
    const timer = setTimeout(done, ms);
    state.waiters.add(done);
  });
}

/** Holds the current DeviceState: replaces it after a loss, and tears it down on dispose. */
export class DeviceSlot {
  state: DeviceState;
  disposed = false;
  adapterInfo: GPUAdapterInfo | undefined;
  /** Whether the backend created the device (then it may request another, and every object of it was tracked). */
  readonly replaceable: boolean;
  private replacing: Promise<DeviceState> | undefined;

  constructor(
    acquired: Acquired,
    private readonly options: WebGPUBackendOptions,
  ) {
    this.adapterInfo = acquired.adapterInfo;
    this.replaceable = acquired.replaceable;
    this.state = this.adopt(acquired.device);
  }

  private adopt(device: GPUDevice): DeviceState {
    trackDevice(device); // so that the GPU-resident API can refuse another device's buffers
    const state: DeviceState = {
      device,
      kernels: new Kernels(device, traitsOf(device, this.adapterInfo, this.options.tuning ?? {})),
      pool: new BufferPool(device),
      lost: false,
      waiters: new Set(),
      scratch: { copies: [], retired: [] },
    };
    device.lost.then((info) => {
      state.lost = true;
      const error = new SoftmaxError('DEVICE_LOST', `the GPU device was lost (${info.reason}): ${info.message}`);
      state.lostError = error;
      for (const wake of [...state.waiters]) wake(error);
      state.waiters.clear();
    });
    return state;
  }

  /** The live device state; after a loss, a new device (when this backend created the first one). */
  async live(): Promise<DeviceState> {
    if (this.disposed) throw disposedError();
    if (!this.state.lost) return this.state;
    if (!this.replaceable) {
      throw new SoftmaxError(
        'DEVICE_LOST',
        'the GPUDevice given to createWebGPUBackend was lost; create a new backend',
      );
    }
    if (!this.replacing) {
      this.replacing = acquireDevice(this.options)
        .then((acquired) => {
          if (this.disposed) {
            acquired.device.destroy(); // disposed while it was being requested
            throw disposedError();
          }
          this.adapterInfo = acquired.adapterInfo;
          this.state = this.adopt(acquired.device);
          return this.state;
        })
        .finally(() => {
          this.replacing = undefined;
        });
    }
    return this.replacing;
  }

  /** The live device state now, for synchronous calls (the GPU-resident API), which cannot wait for a new device. */
  liveSync(): DeviceState {
    if (this.disposed) throw disposedError();
    if (this.state.lost) {
      throw new SoftmaxError('DEVICE_LOST', 'the GPU device is lost; await a call or prepare() to get a new one');
    }
    return this.state;
  }

  /** After every await of a call: a disposed backend or a lost device creates nothing more. */
  checkOpen(state: DeviceState): void {
    if (this.disposed) throw disposedError();
    if (state.lost) throw new SoftmaxError('DEVICE_LOST', 'the GPU device was lost');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const s = this.state;
    s.pool.destroyAll();
    s.kernels.destroy();
    for (const b of [s.scratch.parts, s.scratch.rows, s.scratch.work, ...s.scratch.copies, ...s.scratch.retired])
      b?.destroy();
    if (this.replaceable) s.device.destroy();
  }
}
