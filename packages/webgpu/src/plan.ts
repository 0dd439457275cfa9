import { SoftmaxError } from '@softmax/core';

/** What the planner needs to know about a device. */
export interface DeviceTraits {
  /** Largest workgroup (threads) the kernels use: min(256, the device's limits). */
  maxWorkgroupSize: number;
  maxWorkgroupsPerDimension: number;
  maxBindingBytes: number;
  offsetAlignment: number;
  /** Largest subgroup size when the 'subgroups' feature is on, else 0. */
  subgroupMaxSize: number;
  /** Smallest subgroup size when the 'subgroups' feature is on, else 0 (units up to it reduce by shuffles). */
  subgroupMinSize: number;
  /** Cap on the threads of one unit (CPU adapters: the subgroup size, so no reduction needs a barrier). */
  maxUnitThreads: number;
  /** Fewest threads per workgroup (GPUs: 64, so that small calls fill a few SIMD groups; CPU adapters: 1). */
  minWorkgroupSize: number;
  /** How many workgroups a call should aim for (split long rows into segments below it). */
  targetWorkgroups: number;
  /** Fewest lanes of V each thread handles in a segment of a split row. */
  minLanesPerThread: number;
  /** Lanes of V per thread a row's thread count aims for (more on CPU adapters, where barriers cost most). */
  lanesPerThread: number;
  /** Kernels only (not the layout): hide compensated sums from the shader compiler (GUARD in common.wgsl). */
  guardCompensation?: boolean;
}

export interface Chunk {
  firstRow: number;
  rows: number;
  /** Byte range of the rows × cols arrays bound for this chunk (offset aligned for storage bindings). */
  bindOffset: number;
  bindSize: number;
  /** Offset of the chunk's first row inside the binding, in lanes of V. */
  baseV: number;
  /** The same for arrays of one value per row (logSumExp's output): byte range, and offset in values. */
  rowsBindOffset: number;
  rowsBindSize: number;
  rowsBase: number;
  gridX: number;
  gridY: number;
}

/**
 * How the G threads of a unit combine their partial results: not at all (G = 1), by subgroup
 * shuffles (G ≤ the smallest subgroup), by subgroup operations then workgroup memory, or by
 * workgroup memory alone. Only the last two need barriers.
 */
export type Reduce = 'single' | 'shuffle' | 'subgroup' | 'shared';

export interface Plan {
  rows: number;
  cols: number;
  vec: 1 | 4;
  colsV: number;
  /** Threads per (row, segment) unit, a power of two. */
  G: number;
  /** Threads per workgroup, a multiple of G. */
  WG: number;
  segs: number;
  segLenV: number;
  reduce: Reduce;
  chunks: Chunk[];
}

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
const prevPow2 = (n: number) => 2 ** Math.floor(Math.log2(Math.max(1, n)));

export function reduceFor(G: number, traits: DeviceTraits): Reduce {
  if (G === 1) return 'single';
  if (traits.subgroupMinSize > 0 && G <= traits.subgroupMinSize) return 'shuffle';
  if (traits.subgroupMaxSize > 0 && G >= traits.subgroupMaxSize) return 'subgroup';
  return 'shared';
}

/**
 * Chooses the layout of a rows × cols call. Threads per row grow with the row (about lanesPerThread
 * lanes each, up to the workgroup size); short rows share a workgroup; long rows split into segments
 * when there are too few rows to fill the device; rows past one binding's size go in chunks.
 */
export function planFor(rows: number, cols: number, traits: DeviceTraits): Plan {
  const vec: 1 | 4 = cols % 4 === 0 ? 4 : 1;
  const colsV = cols / vec;
  const maxWG = traits.maxWorkgroupSize;
  const maxG = Math.min(maxWG, traits.maxUnitThreads);
  const maxDim = traits.maxWorkgroupsPerDimension;
  const G = Math.min(maxG, nextPow2(Math.ceil(colsV / traits.lanesPerThread)));
  let segs = 1;
  const wholeRowWGs = Math.ceil((rows * G) / maxWG);
  if (G === maxG && wholeRowWGs < traits.targetWorkgroups) {
    const most = Math.floor(colsV / (G * traits.minLanesPerThread));
    // At most maxDim² segments: a chunk must hold at least one row's units (see rowsPerChunk).
    segs = Math.max(1, Math.min(Math.ceil(traits.targetWorkgroups / rows), most, 256, maxDim * maxDim));
  }
  const segLenV = Math.ceil(colsV / segs);
  segs = Math.ceil(colsV / segLenV);
  const units = rows * segs;
  // Units per workgroup: as many as keep about targetWorkgroups workgroups busy, within the
  // device's workgroup size and at least minWorkgroupSize threads (fewer idle threads on GPUs).
  const spread = G * prevPow2(units / traits.targetWorkgroups);
  const WG = Math.min(maxWG, Math.max(G, traits.minWorkgroupSize, spread));
  const reduce = reduceFor(G, traits);

  const rowBytes = cols * 4;
  const align = traits.offsetAlignment;
  let rowsPerChunk = Math.floor((traits.maxBindingBytes - align) / rowBytes);
  if (rowsPerChunk < 1) {
    throw new SoftmaxError(
      'INVALID_SHAPE',
      `a row of ${cols} float32 values (${rowBytes} bytes) exceeds this device's maxStorageBufferBindingSize (${traits.maxBindingBytes} bytes)`,
    );
  }
  const unitsPerWG = WG / G;
  rowsPerChunk = Math.min(rowsPerChunk, Math.floor((maxDim * maxDim * unitsPerWG) / segs));
  const chunks: Chunk[] = [];
  for (let firstRow = 0; firstRow < rows; firstRow += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, rows - firstRow);
    const start = firstRow * rowBytes;
    const bindOffset = Math.floor(start / align) * align;
    const rowsStart = firstRow * 4;
    const rowsBindOffset = Math.floor(rowsStart / align) * align;
    const workgroups = Math.ceil((n * segs) / unitsPerWG);
    const gridX = Math.min(workgroups, maxDim);
    chunks.push({
      firstRow,
      rows: n,
      bindOffset,
      bindSize: start - bindOffset + n * rowBytes,
      baseV: (start - bindOffset) / 4 / vec,
      rowsBindOffset,
      rowsBindSize: rowsStart - rowsBindOffset + n * 4,
      rowsBase: (rowsStart - rowsBindOffset) / 4,
      gridX,
      gridY: Math.ceil(workgroups / gridX),
    });
  }
  return { rows, cols, vec, colsV, G, WG, segs, segLenV, reduce, chunks };
}
