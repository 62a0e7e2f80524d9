export { refineNetwork, fitNetwork, FULL_FIT_PLATEAU, UPPER_FIT_PLATEAU } from './refine.ts';
export type { Fix, FitOptions, RefineOptions, RefineReport, RefineResult, StopReason } from './refine.ts';
export { fitLayers, layoutOf, packParameters, unpackParameters } from './params.ts';
export type { Layout } from './params.ts';
export { fitGeneralNetwork, fitOutputLayer, generalLayoutOf, packGeneral, unpackGeneral } from './general.ts';
export type { GeneralData, GeneralFitOptions, GeneralFitResult, GeneralFix, GeneralLayout } from './general.ts';
export { fitGeneralFactored, fitGeneralSigns, flipRowsByRefit, LINEAR_FLIP, SIGN_FLIP_PASSES } from './general-factored.ts';
export type { GeneralFactoredOptions, GeneralSignsResult } from './general-factored.ts';
