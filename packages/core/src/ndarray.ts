/**
 * scijs `ndarray` objects at nnid's surface. An ndarray (`{ data, shape, stride, offset }`) and a
 * Float64View (`{ data, offset, shape, strides }`) describe the same thing: element (i, j, ...)
 * lives at `data[offset + i * stride[0] + j * stride[1] + ...]`. Only the name of the strides
 * differs, so one is turned into the other without copying `data`.
 *
 * @example
 * import ndarray from 'ndarray';
 * const X = ndarray(new Float64Array(12), [3, 4]);
 * const v = asView(X);                              // a Float64View over the same memory
 * const t = toNdarray(v);                           // and back: the fields of an ndarray
 * const Y = ndarray(t.data, t.shape, t.stride, t.offset);
 */
import type { Float64View } from './view.ts';

/** The fields of a scijs ndarray over a Float64Array (what `toNdarray` returns). */
export interface NdarrayLike {
  readonly data: Float64Array;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly offset: number;
}

/** What public functions accept: nnid's view or a scijs ndarray over a Float64Array. */
export type ViewLike = Float64View | NdarrayLike;

/** The strides of a view or an ndarray. */
export function stridesOf(value: ViewLike): readonly number[] {
  return 'strides' in value ? value.strides : value.stride;
}

/**
 * A Float64View of a view or an ndarray (the same object for a view; for an ndarray a new view
 * over the same `data`, never a copy). Unchecked: use `checkView` at a public entry.
 */
export function asView(value: ViewLike): Float64View {
  if ('strides' in value) return value;
  return { data: value.data, offset: value.offset ?? 0, shape: value.shape, strides: value.stride };
}

/**
 * The fields of a scijs ndarray over the same memory as `view` (no copy): pass them to
 * `ndarray(t.data, t.shape, t.stride, t.offset)` for a real one.
 */
export function toNdarray(view: ViewLike): NdarrayLike {
  return { data: view.data, shape: [...view.shape], stride: [...stridesOf(view)], offset: view.offset ?? 0 };
}
