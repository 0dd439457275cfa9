import { SoftmaxError } from '@softmax/core';
import { type GpuOp, type Operand, operandBytes, PARAMS_BINDING, PARTS_BINDING, type Stage } from './ops.js';
import { type OpParams, PARAM_BYTES, PARAM_STRIDE, paramWords, tempClass } from './params.js';
import { type Chunk, type DeviceTraits, type Plan, planFor } from './plan.js';
import { moduleSource } from './shaders.js';
import { COPY_DST, STORAGE, UNIFORM } from './usage.js';

/**
 * The GPU buffers of one call of an op, in its operands' order; each operand starts at byte 0. An
 * op with an explicit layout may leave optional operands undefined: a dummy buffer is bound there.
 */
export interface OpBuffers {
  inputs: readonly (GPUBuffer | undefined)[];
  outputs: readonly (GPUBuffer | undefined)[];
  /** Scratch for the partials of split rows (and an op's scale record), at least partBytes(plan, op). */
  parts?: GPUBuffer;
}

const UNIFORM_CACHE = 1024;
const PLAN_CACHE = 256;
const BIND_GROUPS_PER_OUTPUT = 32;

/** The record of an op's scale (GpuOp.scaleRecord): after the partial records of the largest chunk. */
export function scaleRecordAt(plan: Plan, op?: GpuOp): number {
  if (plan.segs === 1) return 0;
  return Math.max(...plan.chunks.map((c) => c.rows)) * plan.segs * (op?.partRecords ?? 1);
}

/**
 * Bytes of partials a plan needs: `op.partRecords` 16-byte records (default one) per row segment
 * of the largest chunk, and the op's scale record.
 */
export function partBytes(plan: Plan, op?: GpuOp): number {
  return (scaleRecordAt(plan, op) + (op?.scaleRecord ? 1 : 0)) * 16;
}

/** The part of an operand that a chunk binds: its rows, from an aligned offset (class weights: all of them). */
function operandRange(operand: Operand, chunk: Chunk, cols: number): { offset: number; size: number } {
  if (operand.shape === 'cols') return { offset: 0, size: cols * 4 };
  return operand.shape === 'matrix'
    ? { offset: chunk.bindOffset, size: chunk.bindSize }
    : { offset: chunk.rowsBindOffset, size: chunk.rowsBindSize };
}

/** What a one-thread (aux) stage binds of an operand: all of it, from byte 0. */
function wholeRange(operand: Operand, plan: Plan): { offset: number; size: number } {
  return { offset: 0, size: operandBytes(operand, plan.rows, plan.cols) };
}

const DUMMY_BYTES = 256;

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
  /** Explicit pipeline layouts, by op (GpuOp.layout). */
  private readonly layoutsByOp = new Map<string, GPUPipelineLayout>();
  /**
   * Bound where an op with an explicit layout has no operand: one shared read-only dummy, and one
   * writable dummy per binding (two writable bindings of one dispatch may not alias).
   */
  private dummies = new Map<string, GPUBuffer>();

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

  /** The plan of a rows × cols call of `op` (cached: encoding small calls is dominated by such work). */
  plan(rows: number, cols: number, op?: GpuOp): Plan {
    const key = op?.plan ? `${rows}x${cols}|${op.name}` : `${rows}x${cols}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = op?.plan ? op.plan(rows, cols, this.traits) : planFor(rows, cols, this.traits);
      if (this.plans.size >= PLAN_CACHE) this.plans.clear();
      this.plans.set(key, plan);
    }
    return plan;
  }

  private static pipelineKey(op: GpuOp, stage: string, plan: Plan, temp: number, params: OpParams): string {
    const key = `${op.name}|${stage}|${plan.vec}|${plan.reduce}|${plan.G}|${plan.WG}|${temp}`;
    return params.extra ? `${key}|${params.extra.variant}` : key;
  }

  private pipelineLayout(op: GpuOp): GPUPipelineLayout | 'auto' {
    if (!op.layout) return 'auto';
    let layout = this.layoutsByOp.get(op.name);
    if (!layout) {
      const group = this.device.createBindGroupLayout({
        label: `softmax ${op.name}`,
        entries: op.layout.map(({ binding, type }) => ({ binding, visibility: 4 /* COMPUTE */, buffer: { type } })),
      });
      layout = this.device.createPipelineLayout({ label: `softmax ${op.name}`, bindGroupLayouts: [group] });
      this.layoutsByOp.set(op.name, layout);
    }
    return layout;
  }

  private descriptor(
    op: GpuOp,
    stage: string,
    plan: Plan,
    temp: number,
    params: OpParams,
  ): { key: string; desc: GPUComputePipelineDescriptor } {
    const key = Kernels.pipelineKey(op, stage, plan, temp, params);
    const desc: GPUComputePipelineDescriptor = {
      label: `softmax ${key}`,
      layout: this.pipelineLayout(op),
      compute: {
        module: this.module(op, plan),
        entryPoint: op.entryPoints[stage as Stage] ?? op.aux?.[stage],
        constants: {
          ...op.constants,
          ...params.extra?.constants,
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

  /** Whether every pipeline of (op, plan, params) is compiled: then a call need not await prepare(). */
  ready(op: GpuOp, plan: Plan, params: OpParams, aux: readonly string[] = []): boolean {
    const temp = tempClass(params.temperature);
    for (const stage of [...aux, ...Kernels.stages(plan)]) {
      if (!this.pipelines.has(Kernels.pipelineKey(op, stage, plan, temp, params))) return false;
    }
    return true;
  }

  /** Compiles (without blocking) the pipelines a plan needs with these parameters (and these aux stages). */
  async prepare(op: GpuOp, plan: Plan, params: OpParams, aux: readonly string[] = []): Promise<void> {
    const temp = tempClass(params.temperature);
    await Promise.all(
      [...aux, ...Kernels.stages(plan)].map((stage) => {
        const { key, desc } = this.descriptor(op, stage, plan, temp, params);
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

  private pipeline(
    op: GpuOp,
    stage: string,
    plan: Plan,
    temp: number,
    params: OpParams,
  ): { key: string; pipeline: GPUComputePipeline } {
    const key = Kernels.pipelineKey(op, stage, plan, temp, params);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline(this.descriptor(op, stage, plan, temp, params).desc); // not prepared: compiles now
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

  /** A dummy storage buffer (never read, or never written), for an absent operand of an explicit layout. */
  private dummy(kind: 'read' | 'write', binding: number): GPUBuffer {
    const key = kind === 'read' ? 'read' : `write ${binding}`;
    let b = this.dummies.get(key);
    if (!b) {
      b = this.device.createBuffer({ label: `softmax dummy (${key})`, size: DUMMY_BYTES, usage: STORAGE });
      this.dummies.set(key, b);
    }
    return b;
  }

  /**
   * Uniform blocks are immutable per (shape, temperature, fullyMasked, the op's own words), so
   * they are cached, not rewritten.
   */
  private uniformsFor(plan: Plan, p: OpParams, external: boolean): GPUBuffer {
    if (this.closed) throw new SoftmaxError('BACKEND_UNAVAILABLE', 'the WebGPU backend was disposed');
    let key = `${plan.rows}x${plan.cols}|${p.temperature}|${p.maskedZero}`;
    if (p.extra) key += `|${p.extra.key}`;
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

  /**
   * Records one call of an op (all chunks) as one compute pass on `encoder`; `aux` stages (one
   * thread, over whole operands) are dispatched first.
   */
  encode(
    encoder: GPUCommandEncoder,
    op: GpuOp,
    plan: Plan,
    buffers: OpBuffers,
    params: OpParams,
    options: { external: boolean; timestampWrites?: GPUComputePassTimestampWrites; aux?: readonly string[] },
  ): void {
    if (op.layout) {
      this.encodeLaid(encoder, op, plan, buffers, params, options);
      return;
    }
    const { timestampWrites } = options;
    const uniforms = this.uniformsFor(plan, params, options.external);
    const temp = tempClass(params.temperature);
    const stages = Kernels.stages(plan).map((stage) => ({ stage, ...this.pipeline(op, stage, plan, temp, params) }));
    // Bind groups are cached by the first output, then by every other buffer they hold.
    const first = buffers.outputs[0] as GPUBuffer;
    let buffersKey = `${this.bufferId(buffers.parts)},${this.bufferId(uniforms)}`;
    for (const b of buffers.inputs) buffersKey += `,${this.bufferId(b)}`;
    for (let k = 1; k < buffers.outputs.length; k++) buffersKey += `,o${this.bufferId(buffers.outputs[k])}`;
    const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    plan.chunks.forEach((chunk, i) => {
      const entries = (stage: Stage) => () => {
        const resources: Record<number, GPUBufferBinding> = {
          [PARAMS_BINDING]: { buffer: uniforms, offset: i * PARAM_STRIDE, size: PARAM_BYTES },
        };
        const bind = (operands: readonly Operand[], list: readonly (GPUBuffer | undefined)[]) =>
          operands.forEach((o, k) => {
            resources[o.binding] = { buffer: list[k] as GPUBuffer, ...operandRange(o, chunk, plan.cols) };
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

  /**
   * encode() for an op with an explicit layout (GpuOp.layout): every binding is bound at every
   * stage, a dummy where the call has no such operand; the uniform block is bound twice when the
   * op reads it through its own struct too; the partials (with the op's scale record) always.
   */
  private encodeLaid(
    encoder: GPUCommandEncoder,
    op: GpuOp,
    plan: Plan,
    buffers: OpBuffers,
    params: OpParams,
    options: { external: boolean; timestampWrites?: GPUComputePassTimestampWrites; aux?: readonly string[] },
  ): void {
    const { timestampWrites } = options;
    const uniforms = this.uniformsFor(plan, params, options.external);
    const temp = tempClass(params.temperature);
    const paramBytes = op.paramBytes ?? PARAM_BYTES;
    const parts = buffers.parts as GPUBuffer;
    const partsSize = partBytes(plan, op);
    const stages = Kernels.stages(plan).map((stage) => ({ stage, ...this.pipeline(op, stage, plan, temp, params) }));
    const first = buffers.outputs[0] as GPUBuffer;
    let buffersKey = `${this.bufferId(parts)},${this.bufferId(uniforms)}`;
    for (const b of buffers.inputs) buffersKey += `,${this.bufferId(b)}`;
    for (let k = 1; k < buffers.outputs.length; k++) buffersKey += `,o${this.bufferId(buffers.outputs[k])}`;
    const writable = new Set((op.layout ?? []).filter((e) => e.type === 'storage').map((e) => e.binding));
    // The entries of one bind group: chunk i's ranges, or (aux stages) whole operands.
    const entries = (i: number, whole: boolean) => () => {
      const chunk = plan.chunks[i];
      const uniform = { buffer: uniforms, offset: i * PARAM_STRIDE, size: paramBytes };
      const resources: Record<number, GPUBufferBinding> = {
        [PARAMS_BINDING]: uniform,
        [PARTS_BINDING]: { buffer: parts, offset: 0, size: partsSize },
      };
      if (op.paramsViewBinding !== undefined) resources[op.paramsViewBinding] = uniform;
      const bind = (operands: readonly Operand[], list: readonly (GPUBuffer | undefined)[]) =>
        operands.forEach((o, k) => {
          const b = list[k];
          resources[o.binding] = !b
            ? {
                buffer: this.dummy(writable.has(o.binding) ? 'write' : 'read', o.binding),
                offset: 0,
                size: DUMMY_BYTES,
              }
            : o.shape === 'buffer'
              ? { buffer: b, offset: 0, size: b.size }
              : { buffer: b, ...(whole ? wholeRange(o, plan) : operandRange(o, chunk, plan.cols)) };
        });
      bind(op.inputs, buffers.inputs);
      bind(op.outputs, buffers.outputs);
      return (op.layout ?? []).map(({ binding }) => ({ binding, resource: resources[binding] }));
    };
    const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    for (const stage of options.aux ?? []) {
      const { key, pipeline } = this.pipeline(op, stage, plan, temp, params);
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        this.bindGroup(`${plan.rows}x${plan.cols}|${key}|aux|${buffersKey}`, first, pipeline, entries(0, true)),
      );
      pass.dispatchWorkgroups(1);
    }
    plan.chunks.forEach((chunk, i) => {
      for (const { key, pipeline } of stages) {
        pass.setPipeline(pipeline);
        const groupKey = `${plan.rows}x${plan.cols}|${key}|${i}|${buffersKey}`;
        pass.setBindGroup(0, this.bindGroup(groupKey, first, pipeline, entries(i, false)));
        pass.dispatchWorkgroups(chunk.gridX, chunk.gridY);
      }
    });
    pass.end();
  }

  destroy(): void {
    this.closed = true;
    for (const { buffer } of this.uniforms.values()) buffer.destroy();
    this.uniforms.clear();
    for (const b of this.dummies.values()) b.destroy();
    this.dummies.clear();
  }
}
