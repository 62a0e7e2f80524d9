import { invalidArgument, matrix, type Float64View } from '@nnid/core';
import { packedIndex, PACKED_OFFDIAGONAL_SCALE } from './stencil.ts';

/**
 * The r x r symmetric matrix of row `row` of a packed Hessian stack (undoing the sqrt 2 scale).
 *
 * @example
 * const H3 = unpackHessian(hessianStack, 3);
 */
export function unpackHessian(stack: Float64View, row: number): Float64View {
  const cols = stack.shape[1];
  const r = Math.round((Math.sqrt(8 * cols + 1) - 1) / 2);
  if ((r * (r + 1)) / 2 !== cols) invalidArgument('stack', 'must have r(r+1)/2 columns (the packed layout)', cols);
  if (!Number.isInteger(row) || row < 0 || row >= stack.shape[0]) invalidArgument('row', `must be an integer in [0, ${stack.shape[0] - 1}]`, row);
  const H = matrix(r, r);
  const base = stack.offset + row * stack.strides[0];
  for (let i = 0; i < r; i++) {
    for (let j = i; j < r; j++) {
      const v = stack.data[base + packedIndex(i, j, r) * stack.strides[1]];
      const x = i === j ? v : v / PACKED_OFFDIAGONAL_SCALE;
      H.data[i * r + j] = x;
      H.data[j * r + i] = x;
    }
  }
  return H;
}
