/**
 * @nnid/rank1-solver — rank-one elements u u^T of a matrix space W, by projected ascent of
 * Phi(u) = |P_W(u u^T)|_F^2 from many random starts in worker threads.
 */
export { findRankOne, fixSign, SIGN_CONVENTION } from './solve.ts';
export type { RankOneOptions, RankOneReport, RankOneResult, BasisLayout } from './solve.ts';
export { createSolverPool } from './pool.ts';
export type { SolverPool } from './pool.ts';
