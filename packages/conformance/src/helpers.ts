/**
 * Everything but the vitest suite: the oracle, the checks and the test-vector tables. This entry
 * imports neither vitest nor fast-check, so benchmarks and CommonJS code can use it
 * (`@softmax/conformance/helpers`; `require('@softmax/conformance')` resolves here too).
 *
 * @module @softmax/conformance/helpers
 */
export {
  type CheckResult,
  checkAgainstOracle,
  checkRowSums,
  describeCheck,
  exactRowSum,
  logSoftmaxBackwardScale,
  logSoftmaxScale,
  type RowSumCheck,
  rowSumBound,
  softmaxBackwardScale,
  type Tolerance,
} from './check.js';
export { type ChiSquare, chiSquare, gammaQ } from './chi-square.js';
export { type AccuracyBound, boundFor, type ConformanceContract, type OwnMemory } from './contract.js';
export {
  ALL_DTYPES,
  DTYPES,
  type DtypeInfo,
  dtypeOf,
  floatTagOf,
  flushSubnormals,
  roundToFloat32,
  ulpDistance,
} from './dtypes.js';
export {
  caseSeed,
  FUZZ_CASES,
  FUZZ_SEED,
  type FuzzCase,
  type FuzzMethod,
  fuzzCase,
  LOGIT_PATTERNS,
  type LogitPattern,
  splitmix32,
  UPSTREAM_PATTERNS,
  type UpstreamPattern,
} from './fuzz-cases.js';
export {
  EXTREME_TEMPERATURES,
  HOSTILE_CASES,
  HOSTILE_COLS,
  HOSTILE_LOGITS,
  HOSTILE_UPSTREAM,
  type HostileCall,
  type HostileCase,
  type HostileEnv,
  type HostileKind,
  type HostileNeed,
} from './hostile-inputs.js';
export {
  type OracleBackwardOptions,
  type OracleForwardOptions,
  oracleLogSoftmax,
  oracleLogSoftmaxBackward,
  oracleLogSumExp,
  oracleSoftmax,
  oracleSoftmaxBackward,
} from './oracle.js';
export {
  type OracleDraw,
  type OracleSample,
  type OracleSampleRow,
  oracleDraw,
  oracleProcessed,
  oracleSample,
} from './oracle-sample.js';
export { oraclePhilox4x32, oracleUniform } from './philox-oracle.js';
export {
  BACKWARD_CASES,
  BAD_INPUTS,
  type BackwardCase,
  type BadInput,
  FORWARD_VECTORS,
  type ForwardVector,
  ROW_LENGTHS,
  SHAPES,
  type Shape,
  SPECIAL_VECTORS,
  type SpecialVector,
  seededRandom,
  uniform,
  WORKED_EXAMPLE,
} from './vectors.js';
export {
  CHI_SQUARE_CASES,
  CHI_SQUARE_P_MIN,
  type ChiSquareCase,
  DRAW_SEEDS,
  gridRow,
  HAND_VECTORS,
  type HandVector,
  maskWords,
  SAMPLE_BAD_OPTIONS,
  SAMPLE_COMBOS,
  SAMPLE_PATTERNS,
  type SampleBadOption,
  type SampleCase,
  type SampleCombo,
  type SamplePattern,
  sampleCase,
  WELL_POSED,
  wellPosed,
} from './vectors-sample.js';
