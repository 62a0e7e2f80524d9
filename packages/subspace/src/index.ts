/**
 * @nnid/subspace — the matrix space W-hat spanned by sampled Hessians (orthonormal basis,
 * spectrum, dimension), the geometry of rank-one matrices against it, and the optional
 * reduction to range(A) from gradients.
 */
export {
  estimateSubspace,
  distanceToSubspace,
  projectRankOne,
  rankOneSpan,
  joinSubspaces,
  deflate,
} from './subspace.ts';
export type {
  MatrixSubspace,
  SubspaceOptions,
  SubspaceReport,
  SubspaceResult,
  DimensionSource,
  RankOneProjection,
} from './subspace.ts';
export { estimateRange } from './range.ts';
export type { RangeOptions, RangeReport, RangeResult } from './range.ts';
export { complementBasis, restrictStack } from './restrict.ts';
export { sideOf } from './layout.ts';
export type { MatrixLayout } from './layout.ts';
