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

/** One form an operand may take: its element type and its shape. */
export interface OperandForm {
  /** Its element type. */
  readonly element: ElementKind;
  /** Its shape: rows × cols, one per row, or one for the call. */
  readonly shape: ShapeKind;
  /**
   * For a 'float' form that does not set the call's float type (it is not the first float
   * operand): an array of the other float type is copied into the call's type instead of refused.
   */
  readonly convert?: true;
  /** For a 'float' output: always this float type, whatever the call's (crossEntropy's float64 row losses). */
  readonly dtype?: Dtype;
}

export interface OperandDecl extends OperandForm {
  /** The argument's name, as error messages print it (`x`, `dy`, `targets`). */
  readonly name: string;
  /**
   * The op whose output a meaningful value of this operand is, given logits (a gradient's `y` is
   * the forward output): what benchmarks, canaries and fuzzers feed it.
   */
  readonly producedBy?: string;
  /**
   * Other forms the operand may take, told apart by the array's type (an 'int32' form takes
   * Int32Array and number[], a 'uint32' form Uint32Array and number[], a 'float' form Float32Array
   * and Float64Array): the first form, the declared one, then these, that accepts the value's
   * type. `OpCall.forms` says which.
   */
  readonly or?: readonly OperandForm[];
}

/** Whether an output exists in a call: not at all, as a new array (or the `out` option's), or as an input itself. */
export type OutputPresence = 'absent' | 'present' | 'in-place';

export interface OutputDecl extends OperandDecl {
  /**
   * The option through which a caller may pass this output preallocated (`out`). It may be an
   * input of the same shape and type itself (in place); a view that only partly overlaps an
   * input is rejected, since rows are read before they are written but not in any other order.
   */
  readonly outOption?: string;
  /**
   * Whether the output exists, from the call's parsed options (default: always 'present'). An
   * absent output is a zero-length array of its type in `OpCall.outputs` (OpCall.present says
   * false); 'in-place' makes it the input `inPlaceOf` itself, which the caller must have passed
   * as a typed array of the output's type (not a number[], which has no memory to write).
   */
  readonly when?: (options: Readonly<Record<string, unknown>>) => OutputPresence;
  /** The option `when` reads, named in the messages about it. */
  readonly whenOption?: string;
  /** The input (index in `inputs`) an 'in-place' output is. */
  readonly inPlaceOf?: number;
  /**
   * The inputs (by name) this output may be, as `out` or in place. Default: any input of its
   * shape and type. Writing over any other input is refused (INVALID_OPTION).
   */
  readonly mayAlias?: readonly string[];
  /**
   * For a 'rows' output: how many values each row has, from the call's parsed options (default
   * 1). The output is rows × width, row-major (sample's top-n ids and log-probabilities).
   */
  readonly width?: (options: Readonly<Record<string, unknown>>) => number;
}

/** The shape of a call, known when its options are parsed. */
export interface CallShape {
  /** The float type of the call. */
  readonly dtype: Dtype;
  /** The number of rows. */
  readonly rows: number;
  /** The row length. */
  readonly cols: number;
}

/**
 * Reads one option: called exactly once per call with the caller's value (undefined when absent)
 * and returns the parsed value or its default, or throws a SoftmaxError naming `options.<name>`.
 * It runs after the inputs are checked, with the call's shape (an option whose length is cols needs it; validateCall always passes it).
 */
export interface OptionReader<T = unknown> {
  /**
   * A reader declared with two parameters is taken to parse an absent value the same way in every
   * call (validation then shares one frozen options object between calls that set none); one whose
   * result depends on the call's shape declares the third parameter.
   */
  (value: unknown, name: string, shape?: CallShape): T;
  /**
   * Runs while the options are read, before the inputs' lengths are taken, on the caller's value:
   * whatever can run the caller's code (a number[]'s elements, through a Proxy) is read here, so
   * it cannot change an input after its checks. Must not throw: it returns what the reader gets
   * (a deferred error included).
   */
  early?: (value: unknown, name: string) => unknown;
}

/** Integer typed arrays an operand may be. */
export type IndexArray = Int32Array | Uint32Array;
/** The typed array an operand is, once validated: a float or an integer array. */
export type OperandArray = FloatArray | IndexArray;

/** One validated call, as a kernel receives it. */
export interface OpCall<Options = Readonly<Record<string, unknown>>, Params = Readonly<Record<string, unknown>>> {
  /** The declaration of the op called. */
  readonly op: OpDecl;
  /** The float type of the call (of its float operands). */
  readonly dtype: Dtype;
  /** The number of rows. */
  readonly rows: number;
  /** The row length. */
  readonly cols: number;
  /** The inputs in declaration order, as typed arrays (a number[] is converted once, to float64). */
  readonly inputs: readonly OperandArray[];
  /**
   * For each input, the form it took: 0 the declared one, k the k-th of its `or` forms. (Always 0
   * for operands with one form.)
   */
  readonly forms: readonly number[];
  /**
   * The outputs in declaration order: the caller's preallocated array, or a new one (a backend may
   * put another view of the same memory in its place). An absent output is a zero-length array.
   */
  outputs: OperandArray[];
  /** For each output, whether it is the caller's (an `out` option, or an input in place) rather than a new array. */
  readonly provided: readonly boolean[];
  /** For each output, whether the call computes it (see OutputDecl.when). */
  readonly present: readonly boolean[];
  /** The op's options, each read once and parsed (defaults filled in). */
  readonly options: Options;
  /** What the op derives once per call from its inputs and options (OpDecl.derive), for every backend; {} if none. */
  readonly params: Params;
}

/** The declaration of one op of the table: its operands, outputs, options and reference kernel. */
export interface OpDecl<Name extends string = string> {
  /** The op's name, as in the table and in error messages. */
  readonly name: Name;
  /** Its operands, in argument order. */
  readonly inputs: readonly OperandDecl[];
  /** Its outputs, in `call.outputs` order. */
  readonly outputs: readonly OutputDecl[];
  /** Options other than `cols` and the outputs' `out` options, with their readers. */
  readonly options: Readonly<Record<string, OptionReader>>;
  /**
   * Computed once per call after validation (core, for every backend): parameters every kernel
   * needs and none should recompute, and the checks that need the inputs' values. May throw a
   * SoftmaxError; never modifies the inputs.
   */
  readonly derive?: (call: OpCall) => Readonly<Record<string, unknown>>;
  /**
   * What the call returns, from its outputs once the kernel has run (or at once, for a call of no
   * rows). Default: its one output, or an object of its outputs by name.
   */
  readonly finish?: (call: OpCall) => unknown;
  /** The reference kernel (float64 inside): fills `call.outputs`. */
  readonly reference: (call: OpCall) => void;
  /**
   * The validation steps it needs beyond a plain op's: those of `EXTENDED_VALIDATION`
   * (validate-extended.ts) for an op with an operand of several forms, of integers, of a shape
   * other than 'matrix' or of a form that converts, or an output with `when` or `mayAlias`.
   * Unset: the plain steps, for core's own functions (a bundle of `softmax` leaves the others
   * out); `validateCall` takes the extended steps for any declaration that names none.
   */
  readonly validation?: ValidationSteps;
  /**
   * Options that make two calls on the same inputs compute the same outputs (sample's seed,
   * which otherwise is fresh per call): what a check comparing a backend with the reference on
   * its own inputs (a canary, a benchmark's verification) adds to its options.
   */
  readonly repeatable?: Readonly<Record<string, unknown>>;
}

/** One operand as validation reads it. */
export interface OperandRead {
  /** The form it takes: 0 the declared one, k the k-th of its `or` forms. */
  readonly form: number;
  /** That form. */
  readonly taken: OperandForm;
  /** The operand as a typed array (a number[] copied). */
  readonly array: OperandArray;
  /** The float type it sets for the call; undefined for an integer operand or a form that converts. */
  readonly dtype: Dtype | undefined;
}

/**
 * The parts of validation that differ between a plain op (every operand one float matrix form;
 * its outputs always present, never in place, free to alias any input) and the others. Each
 * rule has one implementation, in validate.ts (plain) or validate-extended.ts; see
 * `OpDecl.validation`.
 */
export interface ValidationSteps {
  /** Reads one operand: the form it takes and its array; throws INVALID_INPUT or UNSUPPORTED_DTYPE. */
  operand(decl: OperandDecl, value: unknown, dtypes: readonly Dtype[]): OperandRead;
  /**
   * Once the shape is known: checks the lengths of the operands that are not matrices and copies
   * those of a form that converts into the call's float type (in `inputs`).
   */
  fit(
    op: OpDecl,
    taken: readonly OperandForm[],
    inputs: OperandArray[],
    lengths: readonly number[],
    shape: CallShape,
  ): void;
  /**
   * An output's array for its presence: none (zero-length), the input it is in place, the
   * caller's `out` (`given`) or a new one of `length`; throws when `out` contradicts the presence.
   */
  output(
    op: OpDecl,
    decl: OutputDecl,
    presence: OutputPresence,
    given: OperandArray | undefined,
    args: ArrayLike<unknown>,
    inputs: readonly OperandArray[],
    shape: CallShape,
    length: number,
  ): { array: OperandArray; provided: boolean };
  /** Refuses an output (named `option`) that shares memory with an input it may not be (OutputDecl.mayAlias). */
  alias(decl: OutputDecl, out: OperandArray, input: OperandArray, name: string, option: string): void;
}
