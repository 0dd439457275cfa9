import { describe, expect, it } from 'vitest';
import { JOB_ARGS, JOB_LENGTH, RESULTS, runChunks, WORKER_STATES } from '../src/threads/chunks.js';
import { writeJob } from '../src/threads/pool.js';

// runChunks reads the job through literal indices (it is sent to workers as source text, without
// the module's names): this checks them against the layout writeJob uses.

describe('a row job', () => {
  it('moves each pointer by its own stride, passes the other arguments as they are', () => {
    const job = new Float64Array(JOB_LENGTH);
    const sync = new Int32Array(WORKER_STATES + 1);
    const calls: number[][] = [];
    const kernel = (...args: number[]) => {
      calls.push(args);
      return args[2] * 10;
    };
    // A matrix input (40 bytes a row) and a one-per-row output (8 bytes a row), as logSumExp's.
    writeJob(job, { fn: 0, args: [1000, 5000, 7, 10, -0], strides: [40, 8], countAt: 2, items: 7, perChunk: 3 });
    runChunks([kernel], sync, job, false);
    expect(calls).toEqual([
      [1000, 5000, 3, 10, -0],
      [1120, 5024, 3, 10, -0],
      [1240, 5048, 1, 10, -0],
    ]);
    expect(Object.is(calls[1][4], -0)).toBe(true); // toEqual does not tell −0 from 0
    expect(Array.from(job.subarray(RESULTS, RESULTS + 3))).toEqual([30, 30, 10]);
  });

  it('refuses a job of more chunks or arguments than the layout holds', () => {
    const job = new Float64Array(JOB_LENGTH);
    const base = { fn: 0, strides: [4], countAt: 1 };
    expect(() => writeJob(job, { ...base, args: [0, 65], items: 65, perChunk: 1 })).toThrow(RangeError);
    expect(() => writeJob(job, { ...base, args: new Array(JOB_ARGS + 1).fill(0), items: 1, perChunk: 1 })).toThrow(
      RangeError,
    );
  });
});
