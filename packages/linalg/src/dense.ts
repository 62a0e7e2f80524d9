/** Turning checked views into the dense operands kernels take, and dense results into views. */
import { invalidArgument } from '@nnid/core';
import type { Float64View } from '@nnid/core';

/** A matrix as a kernel sees it: stored (trans ? cols x rows : rows x cols) with row stride ld. */
export interface Operand {
  data: Float64Array;
  ld: number;
  trans: boolean;
}

/** Zero-copy when the view is row-major with unit column stride (or its transpose is); else a dense copy. */
export function operand(v: Float64View): Operand {
  const [r, c] = v.shape;
  const [s0, s1] = v.strides;
  if (r === 0 || c === 0) return { data: new Float64Array(0), ld: Math.max(1, c), trans: false };
  if ((s1 === 1 || c === 1) && (r === 1 || s0 >= c)) {
    const ld = r === 1 ? c : s0;
    return { data: v.data.subarray(v.offset, v.offset + (r - 1) * ld + c), ld, trans: false };
  }
  if ((s0 === 1 || r === 1) && (c === 1 || s1 >= r)) {
    const ld = c === 1 ? r : s1;
    return { data: v.data.subarray(v.offset, v.offset + (c - 1) * ld + r), ld, trans: true };
  }
  return { data: denseCopy(v), ld: c, trans: false };
}

/** A dense row-major copy of a 2-d view. */
export function denseCopy(v: Float64View): Float64Array {
  const [r, c] = v.shape;
  const [s0, s1] = v.strides;
  const out = new Float64Array(r * c);
  const d = v.data;
  if (s1 === 1) {
    for (let i = 0; i < r; i++) out.set(d.subarray(v.offset + i * s0, v.offset + i * s0 + c), i * c);
    return out;
  }
  for (let i = 0; i < r; i++) {
    const base = v.offset + i * s0;
    for (let j = 0; j < c; j++) out[i * c + j] = d[base + j * s1];
  }
  return out;
}

/** A dense copy that must hold finite numbers only (input of a factorization). */
export function finiteCopy(name: string, v: Float64View): Float64Array {
  const out = denseCopy(v);
  for (let t = 0; t < out.length; t++) {
    if (!Number.isFinite(out[t])) {
      const c = v.shape[1];
      invalidArgument(name, `must contain only finite numbers; entry (${Math.floor(t / c)}, ${t % c}) is not`, out[t]);
    }
  }
  return out;
}

export function view(data: Float64Array, rows: number, cols: number): Float64View {
  return { data, offset: 0, shape: [rows, cols], strides: [cols, 1] };
}

/** Relative tolerance under which two entries count as tied for the sign convention. */
const TIE = 1e-9;

/**
 * The sign convention: flips column j of `m` (rows x cols, dense) so that its entry of largest
 * absolute value is positive (ties within a relative 1e-9: the first such entry). When `partner`
 * is given, its column j is flipped together with m's (SVD: the left vector decides).
 */
export function fixSigns(m: Float64Array, rows: number, cols: number, partner?: { data: Float64Array; rows: number }): void {
  for (let j = 0; j < cols; j++) {
    let big = 0;
    for (let i = 0; i < rows; i++) big = Math.max(big, Math.abs(m[i * cols + j]));
    if (big === 0) continue;
    let lead = 0;
    for (let i = 0; i < rows; i++) {
      if (Math.abs(m[i * cols + j]) >= big * (1 - TIE)) {
        lead = m[i * cols + j];
        break;
      }
    }
    if (lead < 0) {
      for (let i = 0; i < rows; i++) m[i * cols + j] = -m[i * cols + j];
      if (partner) for (let i = 0; i < partner.rows; i++) partner.data[i * cols + j] = -partner.data[i * cols + j];
    }
  }
}
