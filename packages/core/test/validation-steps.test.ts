import { describe, expect, it } from 'vitest';
import type { OpDecl } from '../src/backend.js';
import { OP_NAMES, OPS, validateCall } from '../src/backend.js';
import { EXTENDED_VALIDATION } from '../src/validate-extended.js';

/**
 * What a declaration says that the plain validation steps do not handle: core's functions validate
 * with the plain steps unless the declaration names others (OpDecl.validation), so an op of the
 * table that says any of these must name the extended steps, or its function would read it wrong.
 */
function beyondPlain(op: OpDecl): string[] {
  const found: string[] = [];
  for (const d of op.inputs) {
    if (d.or) found.push(`${d.name}.or`);
    if (d.element !== 'float') found.push(`${d.name}.element`);
    if (d.shape !== 'matrix') found.push(`${d.name}.shape`);
    if (d.convert) found.push(`${d.name}.convert`);
  }
  for (const d of op.outputs) {
    if (d.when) found.push(`${d.name}.when`);
    if (d.mayAlias) found.push(`${d.name}.mayAlias`);
    if (d.inPlaceOf !== undefined) found.push(`${d.name}.inPlaceOf`);
  }
  return found;
}

describe('the validation steps each op of the table names', () => {
  it.each(OP_NAMES)('%s names the extended steps exactly when its declaration needs them', (name) => {
    const op: OpDecl = OPS[name];
    if (beyondPlain(op).length > 0) expect(op.validation, beyondPlain(op).join(', ')).toBe(EXTENDED_VALIDATION);
    else expect(op.validation).toBeUndefined();
  });

  it('crossEntropy and sample are the ops that need them', () => {
    expect(OP_NAMES.filter((name) => beyondPlain(OPS[name]).length > 0)).toEqual(['crossEntropy', 'sample']);
  });

  it('validateCall takes the extended steps for a declaration that names none', () => {
    const { validation: _, ...unnamed } = OPS.crossEntropy;
    const logits = new Float32Array([1, 2, 3, 4, 5, 6]);
    const args = [logits, [2, 0], { cols: 3, gradient: 'in-place' }];
    const call = validateCall(unnamed, args);
    expect(call.forms).toEqual([0, 0]);
    expect(call.inputs[1]).toEqual(new Int32Array([2, 0]));
    expect(call.outputs[1]).toBe(logits);
    expect(call.present).toEqual([true, true, false]);
    // Probabilities of the other float type: the form that converts, copied into the logits' type.
    const probs = validateCall(unnamed, [logits, new Float64Array([0, 0, 1, 1, 0, 0]), { cols: 3 }]);
    expect(probs.forms).toEqual([0, 2]);
    expect(probs.inputs[1]).toEqual(new Float32Array([0, 0, 1, 1, 0, 0]));
    expect(() => validateCall(unnamed, [logits, [0], { cols: 3 }])).toThrow(
      /targets.length must be 2 \(one per row\), got 1/,
    );
  });
});
