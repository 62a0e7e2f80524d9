/**
 * Restriction of a problem to a subspace of R^n: an orthonormal basis of the orthogonal
 * complement of given vectors, and the Hessian stack seen in such a basis (Q^T H Q), where the
 * same rank-one structure holds: Q^T (x x^T) Q = (Q^T x)(Q^T x)^T.
 */
import { checkChoice, checkView, ErrorCodes, invalidArgument, matrix, NnidError, type Float64View, type ViewLike } from '@nnid/core';
import { columnsOf, sideOf, unvec, type MatrixLayout } from './layout.ts';

/**
 * An n x (n - rank) matrix with orthonormal columns spanning the orthogonal complement of the
 * rows of `vectors` (m x n): Gram-Schmidt (twice) of the rows, then of e_1, e_2, ... .
 * Rows within 1e-10 (relative) of the span of the previous ones count as dependent.
 *
 * @example
 * const Q = complementBasis(firstLayerWeights);   // search the missing a_i in span(Q)
 */
export function complementBasis(vectorRows: ViewLike): Float64View {
  const vectors = checkView('vectors', vectorRows, { dims: 'one vector per row' });
  const [m, n] = vectors.shape;
  const basis: Float64Array[] = [];
  const add = (w: Float64Array): boolean => {
    let before = 0;
    for (let t = 0; t < n; t++) before += w[t] * w[t];
    for (let pass = 0; pass < 2; pass++) {
      for (const u of basis) {
        let s = 0;
        for (let t = 0; t < n; t++) s += u[t] * w[t];
        for (let t = 0; t < n; t++) w[t] -= s * u[t];
      }
    }
    let norm = 0;
    for (let t = 0; t < n; t++) norm += w[t] * w[t];
    norm = Math.sqrt(norm);
    if (!(norm > 1e-10 * Math.sqrt(before))) return false;
    for (let t = 0; t < n; t++) w[t] /= norm;
    basis.push(w);
    return true;
  };
  for (let i = 0; i < m; i++) {
    const w = new Float64Array(n);
    for (let t = 0; t < n; t++) w[t] = vectors.data[vectors.offset + i * vectors.strides[0] + t * vectors.strides[1]];
    if (!w.every(Number.isFinite)) invalidArgument(`vectors[${i}]`, 'must hold finite numbers', 'non-finite');
    add(w);
  }
  const rank = basis.length;
  const cols: Float64Array[] = [];
  for (let e = 0; e < n && basis.length < n; e++) {
    const w = new Float64Array(n);
    w[e] = 1;
    if (add(w)) cols.push(basis[basis.length - 1]);
  }
  const c = n - rank;
  const Q = matrix(n, c, { shared: true });
  for (let j = 0; j < c; j++) for (let t = 0; t < n; t++) Q.data[t * c + j] = cols[j][t];
  return Q;
}

/**
 * The stack of Q^T H_p Q (c x c) for each row H_p of a stack of n x n symmetric matrices, with Q
 * n x c (orthonormal columns), in the same layout.
 *
 * @example
 * const sub = restrictStack(hessianStack, Q, 'packed');   // the problem inside span(Q)
 */
export function restrictStack(stack: ViewLike, basis: ViewLike, layout: MatrixLayout): Float64View {
  const hessianStack = checkView('hessianStack', stack, { dims: 'one vectorized Hessian per row' });
  const Q = checkView('Q', basis, { dims: 'n x c' });
  checkChoice('layout', layout, ['full', 'packed'] as const);
  const [rows, cols] = hessianStack.shape;
  const n = sideOf(cols, layout, 'hessianStack');
  const [qn, c] = Q.shape;
  if (qn !== n) throw new NnidError(ErrorCodes.dimensionMismatch, `\`Q\` has ${qn} rows, expected the matrix side n = ${n}`);
  if (c < 1) invalidArgument('Q', 'must have at least one column', c);
  const outCols = columnsOf(c, layout);
  const out = matrix(rows, outCols, { shared: true });
  const Qd = new Float64Array(n * c);
  for (let a = 0; a < n; a++) for (let j = 0; j < c; j++) Qd[a * c + j] = Q.data[Q.offset + a * Q.strides[0] + j * Q.strides[1]];
  const H = new Float64Array(n * n);
  const T = new Float64Array(n * c);
  for (let p = 0; p < rows; p++) {
    unvec(hessianStack.data, hessianStack.offset + p * hessianStack.strides[0], hessianStack.strides[1], n, layout, H);
    // T = H Q, then (Q^T T)_ij
    for (let a = 0; a < n; a++) {
      for (let j = 0; j < c; j++) {
        let s = 0;
        for (let b = 0; b < n; b++) s += H[a * n + b] * Qd[b * c + j];
        T[a * c + j] = s;
      }
    }
    const base = p * outCols;
    for (let i = 0; i < c; i++) {
      for (let j = layout === 'packed' ? i : 0; j < c; j++) {
        let s = 0;
        for (let a = 0; a < n; a++) s += Qd[a * c + i] * T[a * c + j];
        if (layout === 'full') out.data[base + i * c + j] = s;
        else out.data[base + i * c - (i * (i - 1)) / 2 + (j - i)] = i === j ? s : s * Math.SQRT2;
      }
    }
    if (layout === 'full') {
      for (let i = 0; i < c; i++) {
        for (let j = i + 1; j < c; j++) {
          const v = 0.5 * (out.data[base + i * c + j] + out.data[base + j * c + i]);
          out.data[base + i * c + j] = v;
          out.data[base + j * c + i] = v;
        }
      }
    }
  }
  return out;
}
