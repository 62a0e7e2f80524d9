export {
  matmul,
  gram,
  symEig,
  symEigTop,
  topSingular,
  svd,
  qr,
  orthonormalColumns,
  lstsq,
  choleskySolve,
  choleskyFactorization,
  pinv,
  dot,
  norm2,
  normalize,
  frobeniusNorm,
  NotPositiveDefiniteError,
} from './api.ts';
export type {
  MatmulOptions,
  GramOptions,
  EigenResult,
  SvdResult,
  QrResult,
  LstsqOptions,
  LstsqResult,
  CholeskyOptions,
  CholeskyFactorization,
} from './api.ts';
export { tier, useTier, nativeAvailable, setBlasThreads } from './tier.ts';
export type { TierName } from './backend.ts';
