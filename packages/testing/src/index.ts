/**
 * @nnid/testing (private, test-only) — the stage contract every stage package runs, and the
 * fixtures and measures its tests share.
 */
export { describeStageContract, withoutTimings, HOUSE_TEMPLATE } from './contract.ts';
export type { StageContract, StageSettings, StageOutput, BadArgument } from './contract.ts';
export { rejection } from './errors.ts';
export {
  randomMatrix,
  at,
  stridedCopy,
  gappedCopy,
  transposedCopy,
  maxDiff,
  maxDiffArrays,
  relativeL2Arrays,
  maxAbs,
  orthonormalityError,
  orthonormalRows,
  appendOrthonormal,
  randomBasis,
  denseCombinations,
  stackRows,
  rowsOf,
  bestCos,
  bytes,
  networkArrays,
} from './matrices.ts';
