/**
 * Readers of the numeric fields of a network file (v1 and v2 alike): each names the field and
 * index that is wrong (`A[3] has 19 numbers, expected inputDim = 20`). Internal to core.
 */
import { NetworkFormatError } from './errors.ts';
import { matrix, type AllocOptions, type Float64View } from './view.ts';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON value in a few words, for messages. */
export function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 37) + '...' : v}"`;
  return typeof v === 'object' ? 'an object' : String(v);
}

export function readVector(path: string, v: unknown, length: number, lengthName: string, into: Float64Array, at: number): void {
  if (!Array.isArray(v)) throw new NetworkFormatError(path, `is ${describe(v)}, expected an array of ${length} numbers`);
  if (v.length !== length) throw new NetworkFormatError(path, `has ${v.length} numbers, expected ${lengthName} = ${length}`);
  for (let j = 0; j < length; j++) {
    const x = v[j];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new NetworkFormatError(`${path}[${j}]`, `is ${describe(x)}, expected a finite number`);
    }
    into[at + j] = x;
  }
}

export function readMatrix(path: string, v: unknown, cols: number, colsName: string, options: AllocOptions): Float64View {
  if (!Array.isArray(v) || v.length === 0) {
    throw new NetworkFormatError(path, `is ${Array.isArray(v) ? 'empty' : describe(v)}, expected a nonempty array of rows`);
  }
  const out = matrix(v.length, cols, options);
  v.forEach((row, i) => readVector(`${path}[${i}]`, row, cols, colsName, out.data, i * cols));
  return out;
}
