export { sweepReport } from './sweep.ts';
export type { SweepRecordInput, SweepReportOptions } from './sweep.ts';
export { runReport, checkVerdict } from './run.ts';
export type { RunResultInput, RunReportInput, RunReportOptions } from './run.ts';
export { parseReportInput } from './input.ts';
export type { ReportInput } from './input.ts';
export { renderSvg } from './render.ts';
