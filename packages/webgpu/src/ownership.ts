import { SoftmaxError } from '@softmax/core';
import { describeValue } from '@softmax/core/backend';
import { COPY_SRC, STORAGE } from './usage.js';

/**
 * Which device created a buffer, command encoder or query set. WebGPU exposes no owner (a
 * GPUBuffer has no `device`, in Dawn as in browsers) and reports a device mismatch only
 * asynchronously, through an error scope, after the work is encoded. So the backend records what
 * the devices it runs on create, by wrapping their createBuffer, createCommandEncoder and
 * createQuerySet, and the GPU-resident API checks its arguments against that record before any
 * of them reaches the implementation.
 */
const owners = new WeakMap<object, GPUDevice>();
const tracked = new WeakSet<GPUDevice>();

type Factory = 'createBuffer' | 'createCommandEncoder' | 'createQuerySet';

/** From now on, records the device as the owner of every buffer, encoder and query set it creates. */
export function trackDevice(device: GPUDevice): void {
  if (tracked.has(device)) return;
  tracked.add(device);
  for (const name of ['createBuffer', 'createCommandEncoder', 'createQuerySet'] as Factory[]) {
    const create = device[name] as (descriptor?: unknown) => object;
    // biome-ignore lint/suspicious/noExplicitAny: one wrapper for three signatures
    (device as any)[name] = (descriptor?: unknown) => {
      const object = create.call(device, descriptor);
      owners.set(object, device);
      return object;
    };
  }
}

/**
 * Throws SoftmaxError INVALID_INPUT unless `object` may be used with `device`: created by it, or
 * of unknown origin on a device the caller supplied (its buffers made before the backend existed
 * cannot be told apart from another device's). `complete` is true when every object of `device`
 * was created while it was tracked (the backend created the device): then unknown means foreign.
 */
function checkOwner(device: GPUDevice, complete: boolean, object: object, name: string): void {
  const owner = owners.get(object);
  if (owner === device || (owner === undefined && !complete)) return;
  throw new SoftmaxError(
    'INVALID_INPUT',
    owner === undefined
      ? `${name} was not created by this backend's device (create it with backend.device)`
      : `${name} belongs to another GPUDevice than this backend's (create it with backend.device)`,
  );
}

export function checkEncoder(device: GPUDevice, complete: boolean, encoder: unknown): void {
  if (
    typeof encoder !== 'object' ||
    encoder === null ||
    typeof (encoder as GPUCommandEncoder).beginComputePass !== 'function'
  ) {
    throw new SoftmaxError('INVALID_INPUT', `encoder must be a GPUCommandEncoder, got ${describeValue(encoder)}`);
  }
  checkOwner(device, complete, encoder, 'encoder');
}

/** A storage buffer of `device`, not mapped; `copied` ones (in place) also need COPY_SRC. */
export function checkBuffer(
  device: GPUDevice,
  complete: boolean,
  buffer: unknown,
  name: string,
  copied: boolean,
): void {
  const b = buffer as GPUBuffer;
  if (typeof buffer !== 'object' || buffer === null || typeof b.size !== 'number' || typeof b.usage !== 'number') {
    throw new SoftmaxError('INVALID_INPUT', `${name} must be a GPUBuffer, got ${describeValue(buffer)}`);
  }
  checkOwner(device, complete, buffer, name);
  if (b.mapState !== 'unmapped') {
    throw new SoftmaxError(
      'INVALID_INPUT',
      `${name} is ${b.mapState === 'mapped' ? 'mapped' : 'being mapped'}: unmap it first`,
    );
  }
  const need = copied ? STORAGE | COPY_SRC : STORAGE;
  if ((b.usage & need) !== need) {
    throw new SoftmaxError(
      'INVALID_INPUT',
      `${name} needs usage STORAGE${copied ? ' | COPY_SRC (in place, it is copied first)' : ''}, got usage ${b.usage}`,
    );
  }
}

/** The query set of timestampWrites, when given, must be this device's too. */
export function checkQuerySet(
  device: GPUDevice,
  complete: boolean,
  writes: GPUComputePassTimestampWrites | undefined,
): void {
  if (writes?.querySet) checkOwner(device, complete, writes.querySet, 'timestampWrites.querySet');
}
