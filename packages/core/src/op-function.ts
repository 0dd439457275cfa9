import type { OpDecl } from './ops/declaration.js';
import type { OpMethods, OpName } from './ops/table.js';
import { resultOf } from './result.js';
import { validateDeclared } from './validate.js';

/**
 * One op of the table as a plain function, computed by its reference kernel: what the method of
 * a synchronous BackendBase that has the op in both float types does (validate, answer a call of
 * no rows at once, run, return the result), for this op alone. Built from the op's own
 * declaration, not from the table, so a bundle that imports one of core's functions carries that
 * op's declaration and kernel and not the others'.
 */
export function opFunction<N extends OpName>(op: OpDecl<N>): OpMethods[N] {
  const run = (...args: unknown[]): unknown => {
    const call = validateDeclared(op, args);
    if (call.rows > 0) op.reference(call);
    return resultOf(call);
  };
  return run as OpMethods[N];
}
