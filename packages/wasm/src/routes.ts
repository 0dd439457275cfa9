import type { Dtype } from '@softmax/core';
import type { OpDecl, OperandForm, OpName } from '@softmax/core/backend';
import type { KernelName } from './abi.js';
import { type BufferDtype, ELEMENT_BYTES } from './elements.js';
import { exportOf, kernelOf, type OpKernel } from './kernels.js';

/**
 * What a copying call does with each operand, from the op's declaration. Operands are the op's
 * inputs, then its outputs: the kernel's pointer order (then the kernel's extras, which are staged
 * whole for the call and take no part in routes).
 */

/**
 * The byte offset marking an output the call does not compute (core's OpCall.present): the
 * kernel receives a null pointer for it. Nothing of the caller's lies at 0, which is the kernel's
 * own data (live buffers start above __heap_base).
 */
export const NOWHERE = 0;

/** An op's operands as the marshaller sees them, in calls of one float type (and one form of its inputs). */
export interface CallShape {
  readonly kernel: OpKernel;
  /** The kernel's export for this float type (and form). */
  readonly name: KernelName;
  /** How many of the operands are inputs (the rest are outputs). */
  readonly inputs: number;
  readonly count: number;
  /** How many pointers the kernel takes after the operands: OpKernel.extras, then its scratch block. */
  readonly extras: number;
  /** Each operand's element type, and its bytes per element. */
  readonly types: readonly BufferDtype[];
  readonly bytes: readonly number[];
  /** Whether each operand is rows × cols (else it holds one element per row). */
  readonly matrix: readonly boolean[];
  /**
   * For a per-row operand of several elements a row (core's OutputDecl.width: sample's top-n
   * outputs), its width from the call's options; undefined for one element a row (or a matrix).
   */
  readonly widths: readonly (((options: Readonly<Record<string, unknown>>) => number) | undefined)[];
  /** Each operand's name in error messages: the input's, or the output's option (`options.out`). */
  readonly names: readonly string[];
  /**
   * For each output k (indexed from 0 at the first operand), the inputs it may hold (core's
   * OutputDecl.mayAlias; default: any): an input copied into an output's place is overwritten
   * by it while the kernel may still read that input.
   */
  readonly holds: readonly (readonly boolean[])[];
  /** One input and one output of its shape and type: the threads' pipeline suits it. */
  readonly pipelines: boolean;
  /**
   * Every operand rows × cols of one type, one output that may hold any input, no extras: a small
   * call of it can run in the scratch block in place over its first input (Marshaller's #small).
   */
  readonly small: boolean;
  /** The routes of calls with no output in this memory, by the mask of their inputs that are (and of absent outputs). */
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

interface Shapes {
  float32: CallShape;
  float64: CallShape;
  /** The input that takes several forms (core's OperandDecl.or), or -1. */
  multi: number;
  /** The shapes of its other forms, by float type and form. */
  others: Record<string, CallShape | undefined>;
}

/** By op name: a plain object, since a map's lookup costs ~15 ns a call. */
const SHAPES: Record<string, Shapes | undefined> = {};

/**
 * The operands of calls of an op this backend implements (one of core's table), in float type
 * `dtype`, with its inputs in the forms `forms` (core's OpCall.forms; only an op with an input of
 * several forms reads it).
 */
export function shapeOf(op: OpDecl, dtype: Dtype, forms?: readonly number[]): CallShape {
  let shapes = SHAPES[op.name];
  if (shapes === undefined) {
    const multi = op.inputs.findIndex((d) => d.or !== undefined);
    shapes = {
      float32: describe(op, 'float32', multi, 0),
      float64: describe(op, 'float64', multi, 0),
      multi,
      others: {},
    };
    SHAPES[op.name] = shapes;
  }
  if (shapes.multi >= 0 && forms !== undefined && forms[shapes.multi] !== 0) {
    const form = forms[shapes.multi];
    const key = `${dtype} ${form}`;
    let shape = shapes.others[key];
    if (shape === undefined) {
      shape = describe(op, dtype, shapes.multi, form);
      shapes.others[key] = shape;
    }
    return shape;
  }
  // A named load each, where shapes[dtype] would be a keyed one (megamorphic across ops).
  return dtype === 'float32' ? shapes.float32 : shapes.float64;
}

/** The buffer type of an operand form in calls of float type `dtype` (a float output may fix its own). */
function bufferType(form: OperandForm, dtype: Dtype): BufferDtype {
  return form.element === 'float' ? (form.dtype ?? dtype) : form.element;
}

function describe(op: OpDecl, dtype: Dtype, multi: number, form: number): CallShape {
  const kernel = kernelOf(op.name as OpName);
  const decls = [...op.inputs, ...op.outputs];
  const forms: OperandForm[] = decls.map((d, i) => (i === multi && form > 0 ? (d.or as OperandForm[])[form - 1] : d));
  const types = forms.map((f) => bufferType(f, dtype));
  const matrix = forms.map((f) => f.shape === 'matrix');
  const names = [...op.inputs.map((d) => d.name), ...op.outputs.map((d) => `options.${d.outOption}`)];
  return {
    kernel,
    name: exportOf(kernel, dtype, form),
    inputs: op.inputs.length,
    count: decls.length,
    extras: (kernel.extras?.length ?? 0) + (kernel.scratch ? 1 : 0),
    types,
    bytes: types.map((type) => ELEMENT_BYTES[type]),
    matrix,
    widths: decls.map((d) => ('width' in d ? (d.width as CallShape['widths'][number]) : undefined)),
    names,
    holds: decls.map((_, k) =>
      op.inputs.map((input) => {
        const may = k >= op.inputs.length ? op.outputs[k - op.inputs.length].mayAlias : undefined;
        return may === undefined || may.includes(input.name);
      }),
    ),
    pipelines: decls.length === 2 && op.inputs.length === 1 && matrix[0] && matrix[1] && types[0] === types[1],
    small:
      op.outputs.length === 1 &&
      op.outputs[0].mayAlias === undefined &&
      op.outputs[0].when === undefined &&
      kernel.extras === undefined &&
      !kernel.scratch &&
      matrix.every(Boolean) &&
      types.every((type) => type === types[0]),
    routes: [],
  };
}

/**
 * The route of a call whose operands lie at `at` (byte offsets in this memory, -1 outside it,
 * NOWHERE for an output the call does not compute). An operand in this memory is used where it
 * lies. An output outside it gets a slot. An input outside it is copied into the place of an
 * output of its shape and type that may hold it and that no other input holds (every kernel
 * allows an output to be one of its inputs), else into a slot of its own. `outputInside`: whether
 * some output lies in this memory (then the route also depends on which input it is).
 */
export function routeOf(shape: CallShape, at: readonly number[], outputInside: boolean): Route {
  if (outputInside) return plan(shape, at);
  let mask = 0;
  for (let i = 0; i < shape.inputs; i++) if (at[i] >= 0) mask |= 1 << i;
  for (let k = shape.inputs; k < shape.count; k++) if (at[k] === NOWHERE) mask |= 1 << k;
  let route = shape.routes[mask];
  if (route === undefined) {
    route = plan(shape, at);
    shape.routes[mask] = route;
  }
  return route;
}

function plan(shape: CallShape, at: readonly number[]): Route {
  const { inputs, count, types, matrix, holds } = shape;
  const slots: number[] = [];
  const copies: number[] = [];
  const outs: number[] = [];
  const place = Array.from({ length: count }, (_, k) => k);
  // An output in this memory that is an input there already holds that input's data; an output
  // the call does not compute holds nothing to copy into.
  const inside = at.slice(0, inputs).filter((a) => a >= 0);
  const held = Array.from(
    { length: count },
    (_, k) => k >= inputs && (at[k] === NOWHERE || (at[k] >= 0 && inside.includes(at[k]))),
  );
  for (let k = inputs; k < count; k++) {
    if (at[k] >= 0) continue;
    slots.push(k);
    outs.push(k);
  }
  for (let i = 0; i < inputs; i++) {
    if (at[i] >= 0) continue;
    copies.push(i);
    let o = inputs;
    while (o < count && (held[o] || types[o] !== types[i] || matrix[o] !== matrix[i] || !holds[o][i])) o++;
    if (o < count) {
      held[o] = true;
      place[i] = o;
    } else {
      slots.push(i);
    }
  }
  return { slots, copies, place, outs };
}

/** Elements a row of operand `k` has in a call: cols for a matrix, its width, or 1. */
export function perRow(shape: CallShape, k: number, cols: number, options: Readonly<Record<string, unknown>>): number {
  if (shape.matrix[k]) return cols;
  const width = shape.widths[k];
  return width ? width(options) : 1;
}
