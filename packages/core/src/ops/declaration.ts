import type { Dtype, FloatArray } from '../types.js';

/**
 * The shape of an operation declared in the op table (ops/table.ts). Validation, result
 * allocation, `out` handling, empty inputs and dispatch are written once over these
 * declarations, so an operation is its declaration, its reference kernel and its kernels.
 */

/** Element type of an operand: 'float' follows the call's float type (float32 or float64). */
export type ElementKind = 'float' | 'int32' | 'uint32';

/** rows × cols, one value per row, or one value for the whole call. */
export type ShapeKind = 'matrix' | 'rows' | 'scalar';

export interface OperandDecl {
  /** The argument's name, as error messages print it (`x`, `dy`, `targets`). */
  readonly name: string;
  readonly element: ElementKind;
  readonly shape: ShapeKind;
  /**
   * The op whose output a meaningful value of this operand is, given logits (a gradient's `y` is
   * the forward output): what benchmarks, canaries and fuzzers feed it.
   */
  readonly producedBy?: string;
}

export interface OutputDecl extends OperandDecl {
  /**
   * The option through which a caller may pass this output preallocated (`out`). It may be an
   * input of the same shape and type itself (in place); a view that only partly overlaps an
   * input is rejected, since rows are read before they are written but not in any other order.
   */
  readonly outOption?: string;
}

/**
 * Reads one option: called exactly once per call with the caller's value (undefined when absent)
 * and returns the parsed value or its default, or throws a SoftmaxError naming `options.<name>`.
 */
export type OptionReader<T = unknown> = (value: unknown, name: string) => T;

/** Integer typed arrays an operand may be. */
export type IndexArray = Int32Array | Uint32Array;
export type OperandArray = FloatArray | IndexArray;

/** One validated call, as a kernel receives it. */
export interface OpCall<Options = Readonly<Record<string, unknown>>> {
  readonly op: OpDecl;
  /** The float type of the call (of its float operands). */
  readonly dtype: Dtype;
  readonly rows: number;
  readonly cols: number;
  /** The inputs in declaration order, as typed arrays (a number[] is converted once, to float64). */
  readonly inputs: readonly OperandArray[];
  /** The outputs in declaration order: the caller's preallocated array, or a new one (a backend may put another view of the same memory in its place). */
  outputs: OperandArray[];
  /** For each output, whether it is the caller's (an `out` option) rather than a new array. */
  readonly provided: readonly boolean[];
  /** The op's options, each read once and parsed (defaults filled in). */
  readonly options: Options;
}

export interface OpDecl<Name extends string = string> {
  readonly name: Name;
  readonly inputs: readonly OperandDecl[];
  readonly outputs: readonly OutputDecl[];
  /** Options other than `cols` and the outputs' `out` options, with their readers. */
  readonly options: Readonly<Record<string, OptionReader>>;
  /** The reference kernel (float64 inside): fills `call.outputs`. */
  readonly reference: (call: OpCall) => void;
}
