/** Argument checks for the public surface (house-style messages); kernels never re-check. */
import { invalidArgument } from '@nnid/core';
import type { Float64View } from '@nnid/core';

export function shapeText(view: Float64View): string {
  return view.shape.join(' x ');
}

/** Throws unless `value` is a 2-d Float64View whose every element lies inside its data. */
export function checkMatrix(name: string, value: unknown): Float64View {
  const v = value as Float64View;
  if (
    typeof value !== 'object' ||
    value === null ||
    !(v.data instanceof Float64Array) ||
    !Array.isArray(v.shape) ||
    !Array.isArray(v.strides) ||
    typeof v.offset !== 'number'
  ) {
    invalidArgument(name, 'must be a 2-d Float64View ({ data, offset, shape, strides })', typeof value === 'object' && value !== null ? 'an object of another kind' : value);
  }
  if (v.shape.length !== 2 || v.strides.length !== 2) {
    invalidArgument(name, 'must be a 2-d Float64View', `shape [${v.shape.join(', ')}]`);
  }
  const [r, c] = v.shape;
  const [s0, s1] = v.strides;
  if (!Number.isInteger(r) || r < 0 || !Number.isInteger(c) || c < 0) {
    invalidArgument(name, 'must have a shape of two nonnegative integers', `shape [${v.shape.join(', ')}]`);
  }
  if (!Number.isInteger(s0) || !Number.isInteger(s1) || !Number.isInteger(v.offset)) {
    invalidArgument(name, 'must have integer strides and offset', `strides [${v.strides.join(', ')}], offset ${v.offset}`);
  }
  if (r > 0 && c > 0) {
    const lo = v.offset + Math.min(0, (r - 1) * s0) + Math.min(0, (c - 1) * s1);
    const hi = v.offset + Math.max(0, (r - 1) * s0) + Math.max(0, (c - 1) * s1);
    if (lo < 0 || hi >= v.data.length) {
      invalidArgument(name, `must address elements inside its data (length ${v.data.length})`, `offset ${v.offset}, shape [${r}, ${c}], strides [${s0}, ${s1}]`);
    }
  }
  return v;
}

export function checkNonEmpty(name: string, v: Float64View): void {
  if (v.shape[0] === 0 || v.shape[1] === 0) invalidArgument(name, 'must have at least one row and one column', shapeText(v));
}

export function checkSquare(name: string, v: Float64View): number {
  if (v.shape[0] !== v.shape[1]) invalidArgument(name, 'must be a square matrix', shapeText(v));
  return v.shape[0];
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') invalidArgument(name, 'must be a boolean', value);
  return value;
}

export function checkOptions(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalidArgument(name, 'must be an object', value);
  return value as Record<string, unknown>;
}

export function checkVector(name: string, value: unknown): Float64Array {
  if (!(value instanceof Float64Array)) invalidArgument(name, 'must be a Float64Array', typeof value === 'object' && value !== null ? 'an object of another kind' : value);
  return value;
}
