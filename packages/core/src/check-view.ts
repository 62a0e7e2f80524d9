/**
 * The one check of a view argument at a public entry: a Float64View or a scijs ndarray over a
 * Float64Array, of the right rank, whose every element lies inside its data, with the rows and
 * columns the caller needs. Returns a Float64View over the same memory (never a copy), so the
 * kernels behind the entry read ndarrays and views alike.
 *
 * @example
 * const X = checkView('points', points, { cols: d, colsName: 'inputDim', minRows: 1, dims: 'count x inputDim' });
 * // invalid argument. `points` must have inputDim = 12 columns. Value: `13`.
 */
import { ErrorCodes, NnidError, invalidArgument } from './errors.ts';
import { asView, type ViewLike } from './ndarray.ts';
import type { Float64View } from './view.ts';

export interface ViewExpectation {
  /** Number of dimensions (default 2). */
  ndim?: number;
  /** The exact number of rows (the length for ndim 1). */
  rows?: number;
  /** What `rows` stands for in messages: `inputDim` reads "must have inputDim = 12 rows". */
  rowsName?: string;
  /** The exact number of columns. */
  cols?: number;
  colsName?: string;
  /** At least this many rows (default 0). */
  minRows?: number;
  /** What the dimensions mean, for the message on a value that is not a view: 'count x inputDim'. */
  dims?: string;
}

function isIntegerArray(v: unknown, length: number): v is number[] {
  return Array.isArray(v) && v.length === length && v.every((x) => Number.isInteger(x));
}

function shapeText(shape: readonly number[]): string {
  return shape.join(' x ');
}

/** What a value that is not a usable view is, in a few words. */
function describeValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return 'an array';
  const v = value as { data?: unknown; shape?: unknown };
  const data = v.data === undefined ? 'no data' : `${(v.data as object)?.constructor?.name ?? typeof v.data} data`;
  return Array.isArray(v.shape) ? `${data}, shape ${v.shape.join(' x ')}` : `${data}, no shape`;
}

function mismatch(name: string, what: string, expected: number, label: string | undefined, actual: number): never {
  const count = label ? `${label} = ${expected}` : String(expected);
  throw new NnidError(ErrorCodes.dimensionMismatch, `invalid argument. \`${name}\` must have ${count} ${what}. Value: \`${actual}\`.`);
}

/**
 * Checks `value` as a view argument named `name` and returns it as a Float64View (no copy).
 * Errors follow the house template; a wrong row or column count is E_DIMENSION_MISMATCH, the
 * rest E_INVALID_ARGUMENT.
 */
export function checkView(name: string, value: unknown, expect: ViewExpectation = {}): Float64View {
  const ndim = expect.ndim ?? 2;
  const v = value as Partial<{ data: unknown; shape: unknown; strides: unknown; stride: unknown; offset: unknown }> | null;
  const strides = v && typeof v === 'object' ? (v.strides ?? v.stride) : undefined;
  const offset = v && typeof v === 'object' ? (v.offset ?? 0) : undefined;
  if (
    !v ||
    typeof v !== 'object' ||
    !(v.data instanceof Float64Array) ||
    !isIntegerArray(v.shape, ndim) ||
    v.shape.some((n) => n < 0) ||
    !isIntegerArray(strides, ndim) ||
    !Number.isInteger(offset)
  ) {
    const dims = expect.dims ? ` (${expect.dims})` : '';
    invalidArgument(name, `must be a ${ndim}-d Float64View or ndarray over a Float64Array${dims}`, describeValue(value));
  }
  const shape = v.shape as number[];
  const view = asView(value as ViewLike);
  if (shape.every((n) => n > 0)) {
    let low = view.offset;
    let high = view.offset;
    for (let k = 0; k < ndim; k++) {
      const reach = (shape[k] - 1) * view.strides[k];
      if (reach < 0) low += reach;
      else high += reach;
    }
    if (low < 0 || high >= view.data.length) {
      invalidArgument(name, `must lie inside its data (offset ${view.offset}, strides [${view.strides.join(', ')}], ${view.data.length} numbers)`, shapeText(shape));
    }
  }
  const minRows = expect.minRows ?? 0;
  if (shape[0] < minRows) {
    invalidArgument(name, `must have at least ${minRows === 1 ? 'one row' : `${minRows} rows`}`, shapeText(shape));
  }
  if (expect.rows !== undefined && shape[0] !== expect.rows) mismatch(name, ndim === 1 ? 'numbers' : 'rows', expect.rows, expect.rowsName, shape[0]);
  if (expect.cols !== undefined && shape[1] !== expect.cols) mismatch(name, 'columns', expect.cols, expect.colsName, shape[1]);
  return view;
}
