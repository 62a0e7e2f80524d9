/**
 * @nnid/optimize — one Levenberg–Marquardt least-squares solver for nnid's fits, behind a
 * step-strategy interface: dense normal equations, or matrix-free CG on J v and J^T w with a block preconditioner.
 */
export { leastSquares } from './levenberg-marquardt.ts';
export type { DampingDecrease, DampingOptions, FloorRule, LeastSquaresReport, LeastSquaresResult, LevenbergMarquardtOptions, PlateauRule, StepInfo } from './levenberg-marquardt.ts';
export { normalEquationsStrategy } from './strategy.ts';
export type { NormalEquations, NormalEquationsStrategyOptions, StepStrategy } from './strategy.ts';
export { matrixFreeStrategy } from './matrix-free.ts';
export type { JacobianOperator, MatrixFreeOptions, MatrixFreeStats, PreconditionerBlocks } from './matrix-free.ts';
export { isSuccess, STATUS_TABLE, STOP_REASONS } from './status.ts';
export type { LeastSquaresStatus, StopReason } from './status.ts';
