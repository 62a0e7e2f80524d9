/**
 * Strided Float64Array views (ndarray-style) that can sit on a SharedArrayBuffer and be rebuilt
 * in a worker thread from a plain descriptor. A view never copies: `offset` and `strides` say
 * where element (i, j, ...) lives in `data`.
 *
 * @example
 * const H = matrix(10, 400, { shared: true });   // 10 rows, 400 columns, row-major
 * H.data[H.offset + 3 * H.strides[0] + 7 * H.strides[1]] = 1;
 * worker.postMessage(toDescriptor(H));            // the buffer is shared, not copied
 * const again = fromDescriptor(message);          // same memory on the other side
 *
 * The functions below that read a view also take a scijs ndarray (`stride` for `strides`; see
 * ndarray.ts), without copying.
 */
import { invalidArgument } from './errors.ts';
import { asView, stridesOf, type ViewLike } from './ndarray.ts';

export interface Float64View {
  readonly data: Float64Array;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
}

/** A plain, structured-clone-safe description of a view; `buffer` is shared, not copied. */
export interface ViewDescriptor {
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  readonly byteOffset: number;
  readonly length: number;
  readonly offset: number;
  readonly shape: number[];
  readonly strides: number[];
}

export interface AllocOptions {
  /** Back the array by a SharedArrayBuffer, so worker threads can read and write it. */
  shared?: boolean;
}

/** Allocates `n` zeros, in shared memory when asked. */
export function allocFloat64(n: number, options: AllocOptions = {}): Float64Array {
  if (!Number.isInteger(n) || n < 0) invalidArgument('n', 'must be a nonnegative integer', n);
  if (options.shared) return new Float64Array(new SharedArrayBuffer(n * 8));
  return new Float64Array(n);
}

/** A new zero row-major matrix view. */
export function matrix(rows: number, cols: number, options: AllocOptions = {}): Float64View {
  if (!Number.isInteger(rows) || rows < 0) invalidArgument('rows', 'must be a nonnegative integer', rows);
  if (!Number.isInteger(cols) || cols < 0) invalidArgument('cols', 'must be a nonnegative integer', cols);
  return { data: allocFloat64(rows * cols, options), offset: 0, shape: [rows, cols], strides: [cols, 1] };
}

/** Wraps existing data as a row-major matrix (no copy). */
export function matrixFrom(data: Float64Array, rows: number, cols: number): Float64View {
  if (data.length < rows * cols) {
    invalidArgument('data', `must hold at least rows * cols = ${rows * cols} numbers`, data.length);
  }
  return { data, offset: 0, shape: [rows, cols], strides: [cols, 1] };
}

/** A vector view over `data` (no copy). */
export function vector(data: Float64Array): Float64View {
  return { data, offset: 0, shape: [data.length], strides: [1] };
}

export function isShared(view: ViewLike): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && view.data.buffer instanceof SharedArrayBuffer;
}

export function toDescriptor(input: ViewLike): ViewDescriptor {
  const view = asView(input);
  return {
    buffer: view.data.buffer as SharedArrayBuffer | ArrayBuffer,
    byteOffset: view.data.byteOffset,
    length: view.data.length,
    offset: view.offset,
    shape: [...view.shape],
    strides: [...view.strides],
  };
}

export function fromDescriptor(d: ViewDescriptor): Float64View {
  return {
    data: new Float64Array(d.buffer, d.byteOffset, d.length),
    offset: d.offset,
    shape: d.shape,
    strides: d.strides,
  };
}

/** Element (i, j) of a 2-d view. */
export function get2(view: ViewLike, i: number, j: number): number {
  const strides = stridesOf(view);
  return view.data[view.offset + i * strides[0] + j * strides[1]];
}

export function set2(view: ViewLike, i: number, j: number, value: number): void {
  const strides = stridesOf(view);
  view.data[view.offset + i * strides[0] + j * strides[1]] = value;
}

/** Row i of a 2-d view, as a 1-d view (no copy). */
export function rowView(input: ViewLike, i: number): Float64View {
  const view = asView(input);
  return { data: view.data, offset: view.offset + i * view.strides[0], shape: [view.shape[1]], strides: [view.strides[1]] };
}

/** The transpose of a 2-d view (no copy). */
export function transposeView(input: ViewLike): Float64View {
  const view = asView(input);
  return { data: view.data, offset: view.offset, shape: [view.shape[1], view.shape[0]], strides: [view.strides[1], view.strides[0]] };
}

/** Rows [start, end) of a 2-d view (no copy). */
export function rowRange(input: ViewLike, start: number, end: number): Float64View {
  const view = asView(input);
  return { data: view.data, offset: view.offset + start * view.strides[0], shape: [end - start, view.shape[1]], strides: view.strides };
}

/** True when the 2-d view is dense row-major starting at data[offset]. */
export function isRowMajor(view: ViewLike): boolean {
  const strides = stridesOf(view);
  return view.shape.length === 2 && strides[1] === 1 && strides[0] === view.shape[1];
}

/** A dense row-major copy of a 2-d view (or 1-d: a dense copy). */
export function toDense(input: ViewLike, options: AllocOptions = {}): Float64View {
  const view = asView(input);
  if (view.shape.length === 1) {
    const out = allocFloat64(view.shape[0], options);
    for (let i = 0; i < out.length; i++) out[i] = view.data[view.offset + i * view.strides[0]];
    return vector(out);
  }
  const [r, c] = view.shape;
  const out = matrix(r, c, options);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) out.data[i * c + j] = view.data[view.offset + i * view.strides[0] + j * view.strides[1]];
  }
  return out;
}

/** The rows of a 2-d view as plain arrays (for JSON output only; never between stages). */
export function toRows(input: ViewLike): number[][] {
  const view = asView(input);
  const [r, c] = view.shape;
  const rows: number[][] = [];
  for (let i = 0; i < r; i++) {
    const row = new Array<number>(c);
    for (let j = 0; j < c; j++) row[j] = view.data[view.offset + i * view.strides[0] + j * view.strides[1]];
    rows.push(row);
  }
  return rows;
}
