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
  /** How many workgroups a call should aim for (split long rows into segments below it). */
  targetWorkgroups: number;
  /** Fewest lanes of V each thread handles in a segment of a split row. */
  minLanesPerThread: number;
  /** Lanes of V per thread a row's thread count aims for (more on CPU adapters, where barriers cost most). */
  lanesPerThread: number;
}

export interface Chunk {
  firstRow: number;
  rows: number;
  /** Byte range of the arrays bound for this chunk (offset aligned for storage bindings). */
  bindOffset: number;
  bindSize: number;
  /** Offset of the chunk's first row inside the binding, in lanes of V. */
  baseV: number;
  gridX: number;
  gridY: number;
}

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
  subgroups: boolean;
  chunks: Chunk[];
}

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * Chooses the layout of a rows × cols call. Threads per row grow with the row (about lanesPerThread
 * lanes each, up to the workgroup size); short rows share a workgroup; long rows split into segments
 * when there are too few rows to fill the device; rows past one binding's size go in chunks.
 */
export function planFor(rows: number, cols: number, traits: DeviceTraits): Plan {
  const vec: 1 | 4 = cols % 4 === 0 ? 4 : 1;
  const colsV = cols / vec;
  const maxWG = traits.maxWorkgroupSize;
  const G = Math.min(maxWG, nextPow2(Math.ceil(colsV / traits.lanesPerThread)));
  const perWG = maxWG / G;
  let segs = 1;
  const wholeRowWGs = Math.ceil(rows / perWG);
  if (G === maxWG && wholeRowWGs < traits.targetWorkgroups) {
    const most = Math.floor(colsV / (G * traits.minLanesPerThread));
    segs = Math.max(1, Math.min(Math.ceil(traits.targetWorkgroups / rows), most, 256));
  }
  const segLenV = Math.ceil(colsV / segs);
  segs = Math.ceil(colsV / segLenV);
  const units = rows * segs;
  // Small calls get a smaller workgroup (64, 128 or 256 threads): fewer idle threads.
  const WG = Math.max(G, Math.min(maxWG, Math.max(64, nextPow2(units * G))));
  const subgroups = traits.subgroupMaxSize > 0 && G >= traits.subgroupMaxSize;

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
  const maxDim = traits.maxWorkgroupsPerDimension;
  rowsPerChunk = Math.min(rowsPerChunk, Math.floor((maxDim * maxDim * unitsPerWG) / segs));
  const chunks: Chunk[] = [];
  for (let firstRow = 0; firstRow < rows; firstRow += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, rows - firstRow);
    const start = firstRow * rowBytes;
    const bindOffset = Math.floor(start / align) * align;
    const workgroups = Math.ceil((n * segs) / unitsPerWG);
    const gridX = Math.min(workgroups, maxDim);
    chunks.push({
      firstRow,
      rows: n,
      bindOffset,
      bindSize: start - bindOffset + n * rowBytes,
      baseV: (start - bindOffset) / 4 / vec,
      gridX,
      gridY: Math.ceil(workgroups / gridX),
    });
  }
  return { rows, cols, vec, colsV, G, WG, segs, segLenV, subgroups, chunks };
}
