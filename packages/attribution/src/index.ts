/**
 * @nnid/attribution — tell first-layer weights a_i from entangled weights v_l among the
 * candidates of the rank-one solver.
 */
export { attributeCandidates } from './attribute.ts';
export type { AttributionOptions, AttributionReport, AttributionResult } from './attribute.ts';
