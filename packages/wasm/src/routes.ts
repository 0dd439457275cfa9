import type { Dtype } from '@softmax/core';
import type { OpDecl, OpName } from '@softmax/core/backend';
import type { KernelName } from './abi.js';
import { type BufferDtype, ELEMENT_BYTES } from './elements.js';
import { kernelOf, type OpKernel } from './kernels.js';

/**
 * What a copying call does with each operand, from the op's declaration. Operands are the op's
 * inputs, then its outputs: the kernel's pointer order.
 */

/** An op's operands as the marshaller sees them, in calls of one float type. */
export interface CallShape {
  readonly kernel: OpKernel;
  /** The kernel's export for this float type. */
  readonly name: KernelName;
  /** How many of the operands are inputs (the rest are outputs). */
  readonly inputs: number;
  readonly count: number;
  /** Each operand's element type, and its bytes per element. */
  readonly types: readonly BufferDtype[];
  readonly bytes: readonly number[];
  /** Whether each operand is rows × cols (else it holds one element per row). */
  readonly matrix: readonly boolean[];
  /** Each operand's name in error messages: the input's, or the output's option (`options.out`). */
  readonly names: readonly string[];
  /** One input and one output of its shape and type: the threads' pipeline suits it. */
  readonly pipelines: boolean;
  /** The routes of calls with no output in this memory, by the mask of their inputs that are. */
  readonly routes: (Route | undefined)[];
}

/** How a copying call moves its operands, for one pattern of which of them lie in this memory. */
export interface Route {
  /** The operands that have a slot of the working block, in the block's order. */
  readonly slots: readonly number[];
  /** The inputs outside this memory, copied in before each chunk runs. */
  readonly copies: readonly number[];
  /** Where each operand's data is: its own place, or, for a copied input, the output it is copied into. */
  readonly place: readonly number[];
  /** The outputs outside this memory, copied out of their slots after each chunk. */
  readonly outs: readonly number[];
}

/** By op name and float type: a plain object, since a map's lookup costs ~15 ns a call. */
const SHAPES: Record<string, Record<Dtype, CallShape> | undefined> = {};

/** The operands of calls of an op this backend implements (one of core's table), in float type `dtype`. */
export function shapeOf(op: OpDecl, dtype: Dtype): CallShape {
  let shapes = SHAPES[op.name];
  if (shapes === undefined) {
    shapes = { float32: describe(op, 'float32'), float64: describe(op, 'float64') };
    SHAPES[op.name] = shapes;
  }
  // A named load each, where shapes[dtype] would be a keyed one (megamorphic across ops).
  return dtype === 'float32' ? shapes.float32 : shapes.float64;
}

function describe(op: OpDecl, dtype: Dtype): CallShape {
  const kernel = kernelOf(op.name as OpName);
  const decls = [...op.inputs, ...op.outputs];
  const types = decls.map((d) => (d.element === 'float' ? dtype : d.element));
  const matrix = decls.map((d) => d.shape === 'matrix');
  return {
    kernel,
    name: kernel.exports[dtype],
    inputs: op.inputs.length,
    count: decls.length,
    types,
    bytes: types.map((type) => ELEMENT_BYTES[type]),
    matrix,
    names: [...op.inputs.map((d) => d.name), ...op.outputs.map((d) => `options.${d.outOption}`)],
    pipelines: decls.length === 2 && op.inputs.length === 1 && matrix[0] && matrix[1] && types[0] === types[1],
    routes: [],
  };
}

/**
 * The route of a call whose operands lie at `at` (byte offsets in this memory, -1 outside it). An
 * operand in this memory is used where it lies. An output outside it gets a slot. An input outside
 * it is copied into the place of an output of its shape and type that no other input holds (every
 * kernel allows an output to be one of its inputs), else into a slot of its own. `outputInside`:
 * whether some output lies in this memory (then the route also depends on which input it is).
 */
export function routeOf(shape: CallShape, at: readonly number[], outputInside: boolean): Route {
  if (outputInside) return plan(shape, at);
  let mask = 0;
  for (let i = 0; i < shape.inputs; i++) if (at[i] >= 0) mask |= 1 << i;
  let route = shape.routes[mask];
  if (route === undefined) {
    route = plan(shape, at);
    shape.routes[mask] = route;
  }
  return route;
}

function plan(shape: CallShape, at: readonly number[]): Route {
  const { inputs, count, types, matrix } = shape;
  const slots: number[] = [];
  const copies: number[] = [];
  const outs: number[] = [];
  const place = Array.from({ length: count }, (_, k) => k);
  // An output in this memory that is an input there already holds that input's data.
  const inside = at.slice(0, inputs).filter((a) => a >= 0);
  const held = Array.from({ length: count }, (_, k) => k >= inputs && at[k] >= 0 && inside.includes(at[k]));
  for (let k = inputs; k < count; k++) {
    if (at[k] >= 0) continue;
    slots.push(k);
    outs.push(k);
  }
  for (let i = 0; i < inputs; i++) {
    if (at[i] >= 0) continue;
    copies.push(i);
    let o = inputs;
    while (o < count && (held[o] || types[o] !== types[i] || matrix[o] !== matrix[i])) o++;
    if (o < count) {
      held[o] = true;
      place[i] = o;
    } else {
      slots.push(i);
    }
  }
  return { slots, copies, place, outs };
}
