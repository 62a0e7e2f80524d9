/**
 * Error classes with stable codes. Every error nnid throws for a reason the user can act on is
 * an `NnidError`: `code` is stable across versions, `message` says what was wrong and, where it
 * helps, what to do next.
 *
 * @example
 * try { parseNetwork(json) } catch (e) { if (e instanceof NnidError && e.code === 'E_NETWORK_FORMAT') ... }
 */
export const ErrorCodes = {
  invalidArgument: 'E_INVALID_ARGUMENT',
  networkFormat: 'E_NETWORK_FORMAT',
  queryBudget: 'E_QUERY_BUDGET',
  oracle: 'E_ORACLE',
  oracleOutput: 'E_ORACLE_OUTPUT',
  oracleUnavailable: 'E_ORACLE_UNAVAILABLE',
  dimensionMismatch: 'E_DIMENSION_MISMATCH',
  fileRead: 'E_FILE_READ',
  fileWrite: 'E_FILE_WRITE',
  worker: 'E_WORKER',
  numerical: 'E_NUMERICAL',
  notConverged: 'E_NOT_CONVERGED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class NnidError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A function argument is out of its domain. */
export class InvalidArgumentError extends NnidError {
  constructor(message: string) {
    super(ErrorCodes.invalidArgument, message);
  }
}

/** A network file (or object) does not follow nnid.network/v1. `path` names the field. */
export class NetworkFormatError extends NnidError {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(ErrorCodes.networkFormat, `invalid network: \`${path}\` ${problem}`);
    this.path = path;
  }
}

/** The oracle would exceed its query budget; raised before the queries are made. */
export class QueryBudgetError extends NnidError {
  readonly budget: number;
  readonly used: number;
  readonly requested: number;
  constructor(budget: number, used: number, requested: number) {
    super(
      ErrorCodes.queryBudget,
      `query budget exceeded: ${used} queries used, ${requested} more requested, budget ${budget}. ` +
        'Raise the budget (--max-queries) or lower the sampling counts.',
    );
    this.budget = budget;
    this.used = used;
    this.requested = requested;
  }
}

/** The values in one place of a numerical computation are not finite or not usable. */
export class NumericalError extends NnidError {
  constructor(message: string) {
    super(ErrorCodes.numerical, message);
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    const s = JSON.stringify(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * Throws the house-style error for a bad argument:
 * ``invalid argument. `nSamples` must be a positive integer. Value: `0`.``
 */
export function invalidArgument(name: string, expectation: string, value: unknown): never {
  throw new InvalidArgumentError(`invalid argument. \`${name}\` ${expectation}. Value: \`${show(value)}\`.`);
}

/** Checks that `value` is an integer >= `min` (default 1). */
export function checkInteger(name: string, value: unknown, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const what =
      min === 1 && max === Number.MAX_SAFE_INTEGER
        ? 'must be a positive integer'
        : min === 0 && max === Number.MAX_SAFE_INTEGER
          ? 'must be a nonnegative integer'
          : max === Number.MAX_SAFE_INTEGER
            ? `must be an integer >= ${min}`
            : `must be an integer in [${min}, ${max}]`;
    invalidArgument(name, what, value);
  }
  return value;
}

/** Checks that `value` is a finite number > 0 (or >= 0 with `allowZero`). */
export function checkPositive(name: string, value: unknown, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    invalidArgument(name, allowZero ? 'must be a finite number >= 0' : 'must be a finite number > 0', value);
  }
  return value;
}

/** Checks that `value` is one of `choices`. */
export function checkChoice<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    invalidArgument(name, `must be one of ${choices.map((c) => `'${c}'`).join(', ')}`, value);
  }
  return value as T;
}

/**
 * The Error a worker's failure report stands for: the NnidError of its code when it has a known
 * one (its stack kept), else E_WORKER "`who` worker failed: message".
 */
export function errorFromWorker(failure: { code?: string; message: string; stack?: string }, who: string): Error {
  if (failure.code && (Object.values(ErrorCodes) as string[]).includes(failure.code)) {
    const e = new NnidError(failure.code as ErrorCode, failure.message);
    if (failure.stack) e.stack = failure.stack;
    return e;
  }
  return new NnidError(ErrorCodes.worker, `${who} worker failed: ${failure.message}`);
}

/**
 * Waits for every promise (a failure does not stop the others) and returns their values in
 * order; throws the one error, or an AggregateError "n of m `what` failed" when several failed.
 */
export async function settleAll<T>(promises: Promise<T>[], what: string): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const errors = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as Error);
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} of ${promises.length} ${what} failed`);
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
