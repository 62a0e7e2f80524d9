export { studentFit, studentFitGeneral, gaussianPoints, NOISE_THRESHOLD_FACTOR, noiseThreshold } from './student-fit.ts';
export type {
  MultiOutputSource,
  StartReport,
  StudentFitGeneralOptions,
  StudentFitGeneralResult,
  StudentFitOptions,
  StudentFitProgress,
  StudentFitReport,
  StudentFitResult,
} from './student-fit.ts';
export { startNetwork, startGeneral, START_SHIFT_STD, SOLVER, SATURATED_NORM_RATIO, DEAD_NORM_RATIO, DUPLICATE_COS, DEAD_UNIT_REDRAWS } from './start.ts';
export type { StudentModel, StudentShape, DeadRedraw } from './start.ts';
export { baselineFit } from './baseline.ts';
export type { BaselineOptions, BaselineResult } from './baseline.ts';
export { studentFitInRange, DERIVATIVE_WEIGHT, UNIT_REDRAWS } from './range-fit.ts';
export type { RangeFitOptions, RangeFitResult, RangeStageReport } from './range-fit.ts';
