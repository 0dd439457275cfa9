import { SoftmaxError } from '@softmax/core';
import { type DeviceTraits, type Plan, planFor } from './plan.js';
import { BINDINGS, entryPoint, moduleSource, OPS, type Op, type Stage } from './shaders.js';
import { COPY_DST, UNIFORM } from './usage.js';

/** The GPU buffers of one operation; inputs and output start at byte 0. */
export interface OpBuffers {
  a: GPUBuffer; // x, or y for the gradients
  b?: GPUBuffer; // dy for the gradients
  out: GPUBuffer;
  /** Scratch for the partials of split rows, at least partBytes(plan). */
  parts?: GPUBuffer;
}

export interface OpParams {
  temperature: number;
  maskedZero: boolean;
}

const PARAM_STRIDE = 256; // minUniformBufferOffsetAlignment is at most 256
const PARAM_BYTES = 64; // Params in common.wgsl: 15 words (the last, `zero`, stays 0), rounded up to 16 bytes
const UNIFORM_CACHE = 1024;
const PLAN_CACHE = 256;
const BIND_GROUPS_PER_OUTPUT = 32;

/** Bytes of partials a plan needs (one 16-byte record per row segment of the largest chunk). */
export function partBytes(plan: Plan): number {
  if (plan.segs === 1) return 0;
  return Math.max(...plan.chunks.map((c) => c.rows)) * plan.segs * 16;
}

const f32 = Math.fround;

/** TEMP in common.wgsl and temperature.wgsl: 0 for T = 1, 1 for 2^-64 ≤ T ≤ 2^64, 2 above, 3 below. */
export function tempClass(temperature: number): 0 | 1 | 2 | 3 {
  if (temperature === 1) return 0;
  if (temperature > 2 ** 64) return 2;
  return temperature < 2 ** -64 ? 3 : 1;
}

/** v·2^e for any integer e, exact where the result is a normal double (2^e alone may overflow). */
function ldexp(v: number, e: number): number {
  while (e > 1000) {
    v *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    v *= 2 ** -1000;
    e += 1000;
  }
  return v * 2 ** e;
}

/** T = τ·2^p with τ in (1/2, 1], exactly, for any positive double T (subnormal ones too). */
export function splitTemperature(T: number): { tau: number; p: number } {
  let p = Math.ceil(Math.log2(T));
  let tau = ldexp(T, -p);
  // log2 rounds near powers of two: step to the exact exponent.
  while (tau > 1) {
    p += 1;
    tau = ldexp(T, -p);
  }
  while (tau <= 0.5) {
    p -= 1;
    tau = ldexp(T, -p);
  }
  return { tau, p };
}

/** 2^e as three float32 powers of two that all scale the same way (e clamped to ±3·126). */
function scaleFactors(e: number): [number, number, number] {
  const parts: number[] = [];
  let rest = Math.max(-378, Math.min(378, e));
  for (let i = 0; i < 3; i++) {
    const part = Math.max(-126, Math.min(126, rest));
    parts.push(2 ** part);
    rest -= part;
  }
  return parts as [number, number, number];
}

/**
 * The temperature words of Params: τ, ln 2·τ as hi + lo, 1/τ and the scale factors (see
 * temperature.wgsl). In classes 0–1 τ is T itself; in classes 2–3 T = τ·2^p. Everything is
 * derived from the float64 T: rounding T to float32 first would cost |t|·2^-25, and overflow or
 * flush to zero past float32's range.
 */
export function temperatureWords(temperature: number): number[] {
  const cls = tempClass(temperature);
  const { tau, p } = cls >= 2 ? splitTemperature(temperature) : { tau: temperature, p: 0 };
  // ln 2 · τ as hi + lo, hi rounded to 15 significant bits so that k · hi is exact in float32 for |k| ≤ 160.
  const c = Math.LN2 * tau;
  const step = 2 ** (Math.floor(Math.log2(c)) - 14);
  const hi = Math.round(c / step) * step;
  const lo = f32(c - hi);
  // Class 3 scales by 2^64 before these factors (an exact step of its own: see diff_t).
  const scale = cls === 2 ? scaleFactors(-p) : cls === 3 ? scaleFactors(-p - 64) : [1, 1, 1];
  return [f32(tau), hi, lo, f32(1 / tau), ...scale];
}

/** The uniform block of one chunk (see Params in common.wgsl). */
function paramWords(plan: Plan, chunkIndex: number, p: OpParams): ArrayBuffer {
  const chunk = plan.chunks[chunkIndex];
  const data = new ArrayBuffer(PARAM_BYTES);
  new Uint32Array(data, 0, 7).set([
    chunk.rows,
    plan.colsV,
    plan.segLenV,
    plan.segs,
    chunk.baseV,
    chunk.gridX,
    p.maskedZero ? 1 : 0,
  ]);
  new Float32Array(data, 28, 7).set(temperatureWords(p.temperature));
  return data; // the last word, `zero`, stays 0
}

/** Compiled pipelines and uniform blocks of one device. */
export class Kernels {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();
  private readonly plans = new Map<string, Plan>();
  /**
   * Bind groups by output buffer, then by (shape, pipeline, chunk, the other buffers): pooled and
   * caller-owned buffers come back call after call, and creating a bind group costs more than the
   * encoding around it. Keyed by identity: a destroyed buffer is never handed out again.
   */
  private readonly bindGroups = new WeakMap<GPUBuffer, Map<string, GPUBindGroup>>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  private readonly pending = new Map<string, Promise<GPUComputePipeline>>();
  /**
   * Uniform blocks, LRU. `external`: recorded into a caller's encoder, which may be submitted
   * any time later, so such a block is never destroyed on eviction (see uniformsFor).
   */
  private readonly uniforms = new Map<string, { buffer: GPUBuffer; external: boolean }>();
  /** Set by destroy() (dispose): no GPU object is created any more. */
  private closed = false;

  constructor(
    readonly device: GPUDevice,
    readonly traits: DeviceTraits,
  ) {}

  private module(backward: boolean, plan: Plan): GPUShaderModule {
    const key = `${backward}|${plan.vec}|${plan.reduce}`;
    let m = this.modules.get(key);
    if (!m) {
      m = this.device.createShaderModule({
        label: `softmax ${backward ? 'backward' : 'forward'} vec${plan.vec} ${plan.reduce}`,
        code: moduleSource(backward, { vec: plan.vec, reduce: plan.reduce }),
      });
      this.modules.set(key, m);
    }
    return m;
  }

  /** The plan of a rows × cols call (cached: encoding small calls is dominated by such work). */
  plan(rows: number, cols: number): Plan {
    const key = `${rows}x${cols}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = planFor(rows, cols, this.traits);
      if (this.plans.size >= PLAN_CACHE) this.plans.clear();
      this.plans.set(key, plan);
    }
    return plan;
  }

  private static pipelineKey(op: Op, stage: Stage, plan: Plan, temp: number): string {
    return `${op}|${stage}|${plan.vec}|${plan.reduce}|${plan.G}|${plan.WG}|${temp}`;
  }

  private descriptor(
    op: Op,
    stage: Stage,
    plan: Plan,
    temp: number,
  ): { key: string; desc: GPUComputePipelineDescriptor } {
    const key = Kernels.pipelineKey(op, stage, plan, temp);
    const desc: GPUComputePipelineDescriptor = {
      label: `softmax ${key}`,
      layout: 'auto',
      compute: {
        module: this.module(OPS[op].backward, plan),
        entryPoint: entryPoint(op, stage),
        constants: {
          G: plan.G,
          WG: plan.WG,
          LOG: OPS[op].log ? 1 : 0,
          GUARD: this.traits.guardCompensation ? 1 : 0,
          TEMP: temp,
        },
      },
    };
    return { key, desc };
  }

  static stages(plan: Plan): Stage[] {
    return plan.segs === 1 ? ['fused'] : ['partial', 'write'];
  }

  /** Whether every pipeline of (op, plan, temperature) is compiled: then a call need not await prepare(). */
  ready(op: Op, plan: Plan, temperature: number): boolean {
    const temp = tempClass(temperature);
    for (const stage of Kernels.stages(plan)) {
      if (!this.pipelines.has(Kernels.pipelineKey(op, stage, plan, temp))) return false;
    }
    return true;
  }

  /** Compiles (without blocking) the pipelines a plan needs at this temperature. */
  async prepare(op: Op, plan: Plan, temperature: number): Promise<void> {
    const temp = tempClass(temperature);
    await Promise.all(
      Kernels.stages(plan).map((stage) => {
        const { key, desc } = this.descriptor(op, stage, plan, temp);
        if (this.pipelines.has(key)) return undefined;
        let p = this.pending.get(key);
        if (!p) {
          p = this.device.createComputePipelineAsync(desc).then((pipeline) => {
            this.pipelines.set(key, pipeline);
            return pipeline;
          });
          p.finally(() => this.pending.delete(key)).catch(() => {});
          this.pending.set(key, p);
        }
        return p;
      }),
    );
  }

  private pipeline(op: Op, stage: Stage, plan: Plan, temp: number): { key: string; pipeline: GPUComputePipeline } {
    const key = Kernels.pipelineKey(op, stage, plan, temp);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline(this.descriptor(op, stage, plan, temp).desc); // not prepared: compiles now
      this.pipelines.set(key, pipeline);
    }
    return { key, pipeline };
  }

  private bufferId(buffer: GPUBuffer | undefined): number {
    if (!buffer) return 0;
    let id = this.bufferIds.get(buffer);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(buffer, id);
    }
    return id;
  }

  private bindGroup(
    key: string,
    out: GPUBuffer,
    pipeline: GPUComputePipeline,
    entries: () => GPUBindGroupEntry[],
  ): GPUBindGroup {
    let cache = this.bindGroups.get(out);
    if (!cache) {
      cache = new Map();
      this.bindGroups.set(out, cache);
    }
    let group = cache.get(key);
    if (!group) {
      let layout = this.layouts.get(pipeline);
      if (!layout) {
        layout = pipeline.getBindGroupLayout(0);
        this.layouts.set(pipeline, layout);
      }
      group = this.device.createBindGroup({ layout, entries: entries() });
      if (cache.size >= BIND_GROUPS_PER_OUTPUT) cache.clear();
      cache.set(key, group);
    }
    return group;
  }

  /** Uniform blocks are immutable per (shape, temperature, fullyMasked), so they are cached, not rewritten. */
  private uniformsFor(plan: Plan, p: OpParams, external: boolean): GPUBuffer {
    if (this.closed) throw new SoftmaxError('BACKEND_UNAVAILABLE', 'the WebGPU backend was disposed');
    const key = `${plan.rows}x${plan.cols}|${p.temperature}|${p.maskedZero}`;
    let entry = this.uniforms.get(key);
    if (entry) {
      this.uniforms.delete(key); // re-insert: Map order is the LRU order
      this.uniforms.set(key, entry);
      entry.external ||= external;
      return entry.buffer;
    }
    const buffer = this.device.createBuffer({ size: plan.chunks.length * PARAM_STRIDE, usage: UNIFORM | COPY_DST });
    for (let i = 0; i < plan.chunks.length; i++) {
      this.device.queue.writeBuffer(buffer, i * PARAM_STRIDE, paramWords(plan, i, p));
    }
    entry = { buffer, external };
    this.uniforms.set(key, entry);
    if (this.uniforms.size > UNIFORM_CACHE) {
      const [oldKey, old] = this.uniforms.entries().next().value as [string, { buffer: GPUBuffer; external: boolean }];
      this.uniforms.delete(oldKey);
      // The array API submits its encoder before it returns, and submitted work keeps a destroyed
      // buffer alive until it completes. A caller's encoder may still be unsubmitted, and a
      // destroyed buffer fails validation at submit: such a block is only dropped (the garbage
      // collector frees it once no command buffer holds it).
      if (!old.external) old.buffer.destroy();
    }
    return buffer;
  }

  /** Records one operation (all chunks) as one compute pass on `encoder`. */
  encode(
    encoder: GPUCommandEncoder,
    op: Op,
    plan: Plan,
    buffers: OpBuffers,
    params: OpParams,
    options: { external: boolean; timestampWrites?: GPUComputePassTimestampWrites },
  ): void {
    const { timestampWrites } = options;
    const uniforms = this.uniformsFor(plan, params, options.external);
    const temp = tempClass(params.temperature);
    const stages = Kernels.stages(plan).map((stage) => ({ stage, ...this.pipeline(op, stage, plan, temp) }));
    const kind = OPS[op].backward ? 'backward' : 'forward';
    const buffersKey = [buffers.a, buffers.b, buffers.parts, uniforms].map((b) => this.bufferId(b)).join(',');
    const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    plan.chunks.forEach((chunk, i) => {
      const entries = (stage: Stage) => () => {
        const range = { offset: chunk.bindOffset, size: chunk.bindSize };
        const resources: Record<number, GPUBufferBinding> = {
          0: { buffer: buffers.a, ...range },
          2: { buffer: buffers.out, ...range },
          4: { buffer: uniforms, offset: i * PARAM_STRIDE, size: PARAM_BYTES },
        };
        if (buffers.b) resources[1] = { buffer: buffers.b, ...range };
        if (plan.segs > 1 && buffers.parts)
          resources[3] = { buffer: buffers.parts, offset: 0, size: chunk.rows * plan.segs * 16 };
        return BINDINGS[kind][stage].map((binding) => ({ binding, resource: resources[binding] }));
      };
      for (const { stage, key, pipeline } of stages) {
        pass.setPipeline(pipeline);
        const groupKey = `${plan.rows}x${plan.cols}|${key}|${i}|${buffersKey}`;
        pass.setBindGroup(0, this.bindGroup(groupKey, buffers.out, pipeline, entries(stage)));
        pass.dispatchWorkgroups(chunk.gridX, chunk.gridY);
      }
    });
    pass.end();
  }

  destroy(): void {
    this.closed = true;
    for (const { buffer } of this.uniforms.values()) buffer.destroy();
    this.uniforms.clear();
  }
}
