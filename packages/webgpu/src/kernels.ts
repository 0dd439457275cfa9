import { SoftmaxError } from '@softmax/core';
import { type GpuOp, type Operand, PARAMS_BINDING, PARTS_BINDING, type Stage } from './ops.js';
import { type OpParams, PARAM_BYTES, PARAM_STRIDE, paramWords, tempClass } from './params.js';
import { type Chunk, type DeviceTraits, type Plan, planFor } from './plan.js';
import { moduleSource } from './shaders.js';
import { COPY_DST, UNIFORM } from './usage.js';

/** The GPU buffers of one call of an op, in its operands' order; each operand starts at byte 0. */
export interface OpBuffers {
  inputs: readonly GPUBuffer[];
  outputs: readonly GPUBuffer[];
  /** Scratch for the partials of split rows, at least partBytes(plan). */
  parts?: GPUBuffer;
}

const UNIFORM_CACHE = 1024;
const PLAN_CACHE = 256;
const BIND_GROUPS_PER_OUTPUT = 32;

/** Bytes of partials a plan needs (one 16-byte record per row segment of the largest chunk). */
export function partBytes(plan: Plan): number {
  if (plan.segs === 1) return 0;
  return Math.max(...plan.chunks.map((c) => c.rows)) * plan.segs * 16;
}

/** The part of an operand that a chunk binds: its rows, from an aligned offset. */
function operandRange(operand: Operand, chunk: Chunk): { offset: number; size: number } {
  return operand.shape === 'matrix'
    ? { offset: chunk.bindOffset, size: chunk.bindSize }
    : { offset: chunk.rowsBindOffset, size: chunk.rowsBindSize };
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

  private module(op: GpuOp, plan: Plan): GPUShaderModule {
    const key = `${op.kernel.name}|${plan.vec}|${plan.reduce}`;
    let m = this.modules.get(key);
    if (!m) {
      m = this.device.createShaderModule({
        label: `softmax ${op.kernel.name} vec${plan.vec} ${plan.reduce}`,
        code: moduleSource(op.kernel.source, { vec: plan.vec, reduce: plan.reduce }),
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

  private static pipelineKey(op: GpuOp, stage: Stage, plan: Plan, temp: number): string {
    return `${op.name}|${stage}|${plan.vec}|${plan.reduce}|${plan.G}|${plan.WG}|${temp}`;
  }

  private descriptor(
    op: GpuOp,
    stage: Stage,
    plan: Plan,
    temp: number,
  ): { key: string; desc: GPUComputePipelineDescriptor } {
    const key = Kernels.pipelineKey(op, stage, plan, temp);
    const desc: GPUComputePipelineDescriptor = {
      label: `softmax ${key}`,
      layout: 'auto',
      compute: {
        module: this.module(op, plan),
        entryPoint: op.entryPoints[stage],
        constants: {
          ...op.constants,
          G: plan.G,
          WG: plan.WG,
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
  ready(op: GpuOp, plan: Plan, temperature: number): boolean {
    const temp = tempClass(temperature);
    for (const stage of Kernels.stages(plan)) {
      if (!this.pipelines.has(Kernels.pipelineKey(op, stage, plan, temp))) return false;
    }
    return true;
  }

  /** Compiles (without blocking) the pipelines a plan needs at this temperature. */
  async prepare(op: GpuOp, plan: Plan, temperature: number): Promise<void> {
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

  private pipeline(op: GpuOp, stage: Stage, plan: Plan, temp: number): { key: string; pipeline: GPUComputePipeline } {
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

  /** Records one call of an op (all chunks) as one compute pass on `encoder`. */
  encode(
    encoder: GPUCommandEncoder,
    op: GpuOp,
    plan: Plan,
    buffers: OpBuffers,
    params: OpParams,
    options: { external: boolean; timestampWrites?: GPUComputePassTimestampWrites },
  ): void {
    const { timestampWrites } = options;
    const uniforms = this.uniformsFor(plan, params, options.external);
    const temp = tempClass(params.temperature);
    const stages = Kernels.stages(plan).map((stage) => ({ stage, ...this.pipeline(op, stage, plan, temp) }));
    // Bind groups are cached by the first output, then by every other buffer they hold.
    const first = buffers.outputs[0];
    let buffersKey = `${this.bufferId(buffers.parts)},${this.bufferId(uniforms)}`;
    for (const b of buffers.inputs) buffersKey += `,${this.bufferId(b)}`;
    for (let k = 1; k < buffers.outputs.length; k++) buffersKey += `,o${this.bufferId(buffers.outputs[k])}`;
    const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    plan.chunks.forEach((chunk, i) => {
      const entries = (stage: Stage) => () => {
        const resources: Record<number, GPUBufferBinding> = {
          [PARAMS_BINDING]: { buffer: uniforms, offset: i * PARAM_STRIDE, size: PARAM_BYTES },
        };
        const bind = (operands: readonly Operand[], list: readonly GPUBuffer[]) =>
          operands.forEach((o, k) => {
            resources[o.binding] = { buffer: list[k], ...operandRange(o, chunk) };
          });
        bind(op.inputs, buffers.inputs);
        bind(op.outputs, buffers.outputs);
        if (plan.segs > 1 && buffers.parts)
          resources[PARTS_BINDING] = { buffer: buffers.parts, offset: 0, size: chunk.rows * plan.segs * 16 };
        return op.stages[stage].map((binding) => ({ binding, resource: resources[binding] }));
      };
      for (const { stage, key, pipeline } of stages) {
        pass.setPipeline(pipeline);
        const groupKey = `${plan.rows}x${plan.cols}|${key}|${i}|${buffersKey}`;
        pass.setBindGroup(0, this.bindGroup(groupKey, first, pipeline, entries(stage)));
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
