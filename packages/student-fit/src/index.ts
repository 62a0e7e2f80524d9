export { studentFit, gaussianPoints } from './student-fit.ts';
export type { StartReport, StudentFitOptions, StudentFitProgress, StudentFitReport, StudentFitResult } from './student-fit.ts';
export { startNetwork, START_SHIFT_STD } from './start.ts';
export type { StudentShape } from './start.ts';
