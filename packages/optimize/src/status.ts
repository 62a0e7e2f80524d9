/**
 * How a least-squares run ended: one table from status code to stop reason and message, after
 * scipy's `least_squares` (`status`, `message`, `success = status > 0`; 2 and 3 are scipy's ftol
 * and xtol conditions).
 */

/** Why the solver stopped (the names refine has always reported). */
export type StopReason = 'nonFiniteStart' | 'stalled' | 'lambda' | 'maxIterations' | 'residual' | 'cost' | 'step';

/** The status code of each stop reason: > 0 is success (converged), <= 0 is not. */
export type LeastSquaresStatus = -3 | -2 | -1 | 0 | 1 | 2 | 3;

interface StatusEntry {
  status: LeastSquaresStatus;
  message: string;
}

/**
 * The status table. A stop reason's status, message and success are read from here only.
 *
 * @example
 * STATUS_TABLE.cost.status; // 2
 */
export const STATUS_TABLE: Readonly<Record<StopReason, Readonly<StatusEntry>>> = Object.freeze({
  nonFiniteStart: { status: -3, message: 'The residuals are not finite at the initial point.' },
  stalled: {
    status: -2,
    message: 'Stalled: the last `stallWindow` accepted steps lowered the relative residual by less than `stallFactor` while it is above `stallAbove`.',
  },
  lambda: { status: -1, message: 'The damping parameter exceeded its ceiling: no step lowers the cost (or every such step was refused).' },
  maxIterations: { status: 0, message: 'The maximum number of iterations is exceeded.' },
  residual: { status: 1, message: '`residualTolerance` termination condition is satisfied.' },
  cost: { status: 2, message: '`costTolerance` termination condition is satisfied.' },
  step: { status: 3, message: '`stepTolerance` termination condition is satisfied.' },
});

/** Every stop reason, by status code from -3 to 3. */
export const STOP_REASONS: readonly StopReason[] = Object.freeze(
  (Object.keys(STATUS_TABLE) as StopReason[]).sort((a, b) => STATUS_TABLE[a].status - STATUS_TABLE[b].status),
);

/** True for the stop reasons that mean convergence (status > 0). @example isSuccess('cost') // true */
export function isSuccess(reason: StopReason): boolean {
  return STATUS_TABLE[reason].status > 0;
}
