/**
 * @nnid/oracle — the only door to the black box: evaluation, query counting, budgets, noise,
 * analytic derivatives (for tests and scoring only) and random networks.
 */
export { createOracle } from './oracle.ts';
export type { OracleOptions } from './oracle.ts';
export { networkBlackBox, blackBoxFromWorkerSpec } from './black-box.ts';
export type { NetworkBlackBox, NetworkBlackBoxOptions, NetworkWorkerSpec } from './black-box.ts';
export { evaluateNetwork } from './evaluate.ts';
export { serveBlackBox, bridgeBlackBox } from './bridge.ts';
export type { BridgeSpec, OracleService } from './bridge.ts';
export { evaluateGeneral, generalBlackBox, generalIdentity, randomGeneralNetwork } from './general.ts';
export type { RandomGeneralNetworkOptions } from './general.ts';
export { networkGradient, networkHessian } from './derivatives.ts';
export { randomNetwork, DEFAULT_SHIFT_STD } from './random-network.ts';
export type { RandomNetworkOptions } from './random-network.ts';
