export { ACTIVATIONS, ACTIVATION_TABLE, REFUSED_ACTIVATIONS, activation, checkActivation, logistic } from './activation.ts';
export { erf, erfc } from './erf.ts';
export type { Activation, ActivationName } from './activation.ts';
export { firstLayerProducts, forwardRow, forwardRowScratch, outputSlopeSums, inputGradient, parameterJacobianRow } from './forward.ts';
export type { UpperLayers, ForwardRow } from './forward.ts';
export {
  ErrorCodes,
  NnidError,
  InvalidArgumentError,
  NetworkFormatError,
  QueryBudgetError,
  NumericalError,
  invalidArgument,
  checkInteger,
  checkPositive,
  checkChoice,
  errorFromWorker,
  settleAll,
} from './errors.ts';
export type { ErrorCode } from './errors.ts';
export {
  NETWORK_FORMAT,
  parseNetwork,
  serializeNetwork,
  readNetworkFile,
  readJsonFile,
  parameterCount,
  entangledWeights,
} from './network.ts';
export type { Network, NetworkJson } from './network.ts';
export {
  NETWORK_FORMAT_V2,
  parseNetworkV2,
  serializeNetworkV2,
  toGeneral,
  toNetworkV1,
  generalParameterCount,
  parseNetworkAny,
  readNetworkAny,
} from './network-v2.ts';
export type { GeneralNetwork, GeneralNetworkJson, AnyNetwork } from './network-v2.ts';
export type { BlackBox, Oracle, QueryCounts, QueryCache } from './oracle.ts';
export { RandomStream, rng } from './rng.ts';
export { createWorkerPool, workerEntryUrl } from './pool.ts';
export type { WorkerPool } from './pool.ts';
export {
  allocFloat64,
  matrix,
  matrixFrom,
  vector,
  isShared,
  toDescriptor,
  fromDescriptor,
  get2,
  set2,
  rowView,
  transposeView,
  rowRange,
  isRowMajor,
  toDense,
  toRows,
} from './view.ts';
export type { Float64View, ViewDescriptor, AllocOptions } from './view.ts';
export { asView, toNdarray } from './ndarray.ts';
export type { NdarrayLike, ViewLike } from './ndarray.ts';
export { checkView } from './check-view.ts';
export type { ViewExpectation } from './check-view.ts';
