export { refineNetwork, fitNetwork } from './refine.ts';
export type { Fix, FitOptions, RefineOptions, RefineReport, RefineResult, StopReason } from './refine.ts';
export { layoutOf, packParameters, unpackParameters } from './params.ts';
export type { Layout } from './params.ts';
