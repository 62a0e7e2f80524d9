/**
 * Finite-difference stencils: the kernels shared by the main thread and the workers. Each point
 * is handled by the same arithmetic wherever it runs, so results do not depend on chunking.
 *
 * Coordinates: directions d_0..d_{r-1} are the unit vectors e_i (no basis) or the columns u_i of
 * an orthonormal basis U (d x r); then the Hessian is that of g(y) = f(x + U y), i.e. U^T H U.
 *
 * Stencil rows (h = step):
 *   forward Hessian  ((r+1)(r+2)/2 rows): x; x + h d_i (i < r); x + h d_i + h d_j (i <= j, packed order)
 *       H_ij = (f(x+hd_i+hd_j) - f(x+hd_i) - f(x+hd_j) + f(x)) / h^2      (i = j: x + 2h d_i)
 *   central Hessian  (2r^2 + 1 rows): x; x + h d_i; x - h d_i; then for i < j: ++, +-, -+, --
 *       H_ii = (f(x+hd_i) - 2f(x) + f(x-hd_i)) / h^2
 *       H_ij = (f(x+hd_i+hd_j) - f(x+hd_i-hd_j) - f(x-hd_i+hd_j) + f(x-hd_i-hd_j)) / (4h^2)
 *   forward gradient (r + 1 rows): x; x + h d_i          g_i = (f(x+hd_i) - f(x)) / h
 *   central gradient (2r rows):    x + h d_i; x - h d_i  g_i = (f(x+hd_i) - f(x-hd_i)) / (2h)
 */

export type Scheme = 'forward' | 'central';
export type Layout = 'full' | 'packed';
export type Kind = 'hessian' | 'gradient';

/** Queries per point. */
export function stencilRows(kind: Kind, scheme: Scheme, r: number): number {
  if (kind === 'gradient') return scheme === 'forward' ? r + 1 : 2 * r;
  return scheme === 'forward' ? ((r + 1) * (r + 2)) / 2 : 2 * r * r + 1;
}

/** Columns of one Hessian row of the stack. */
export function hessianColumns(layout: Layout, r: number): number {
  return layout === 'full' ? r * r : (r * (r + 1)) / 2;
}

/**
 * Index of entry (i, j), i <= j, in the packed layout: the upper triangle row by row,
 * (0,0) (0,1) .. (0,r-1) (1,1) .. (r-1,r-1).
 */
export function packedIndex(i: number, j: number, r: number): number {
  if (i > j) {
    const t = i;
    i = j;
    j = t;
  }
  return i * r - (i * (i - 1)) / 2 + (j - i);
}

/** sqrt(2): off-diagonal entries of the packed layout are scaled by it (Frobenius inner products kept). */
export const PACKED_OFFDIAGONAL_SCALE = Math.SQRT2;

/**
 * Writes one stencil row: out[o + k] = x[k] + a * dirA[k] + b * dirB[k] (a, b in {0, +-h});
 * with no basis, dirA = e_ia and dirB = e_ib.
 */
function writeRow(
  x: Float64Array,
  xo: number,
  d: number,
  dirs: Float64Array | null,
  ia: number,
  a: number,
  ib: number,
  b: number,
  out: Float64Array,
  o: number,
): void {
  for (let k = 0; k < d; k++) out[o + k] = x[xo + k];
  if (dirs === null) {
    if (ia >= 0) out[o + ia] += a;
    if (ib >= 0) out[o + ib] += b;
    return;
  }
  if (ia >= 0 && ib >= 0) {
    const pa = ia * d;
    const pb = ib * d;
    for (let k = 0; k < d; k++) out[o + k] = x[xo + k] + a * dirs[pa + k] + b * dirs[pb + k];
  } else if (ia >= 0) {
    const pa = ia * d;
    for (let k = 0; k < d; k++) out[o + k] = x[xo + k] + a * dirs[pa + k];
  }
}

/**
 * Fills `stencilRows(kind, scheme, r)` rows of `out` (dense, d columns, from row `row0`) around the
 * point x = x[xo .. xo + d). `dirs`: r x d dense (row i = direction i), or null for e_i.
 */
export function fillStencil(
  kind: Kind,
  scheme: Scheme,
  x: Float64Array,
  xo: number,
  d: number,
  r: number,
  dirs: Float64Array | null,
  h: number,
  out: Float64Array,
  row0: number,
): void {
  let o = row0 * d;
  const put = (ia: number, a: number, ib: number, b: number) => {
    writeRow(x, xo, d, dirs, ia, a, ib, b, out, o);
    o += d;
  };
  if (kind === 'gradient') {
    if (scheme === 'forward') {
      put(-1, 0, -1, 0);
      for (let i = 0; i < r; i++) put(i, h, -1, 0);
    } else {
      for (let i = 0; i < r; i++) put(i, h, -1, 0);
      for (let i = 0; i < r; i++) put(i, -h, -1, 0);
    }
    return;
  }
  put(-1, 0, -1, 0);
  if (scheme === 'forward') {
    for (let i = 0; i < r; i++) put(i, h, -1, 0);
    for (let i = 0; i < r; i++) for (let j = i; j < r; j++) put(i, h, j, h);
  } else {
    for (let i = 0; i < r; i++) put(i, h, -1, 0);
    for (let i = 0; i < r; i++) put(i, -h, -1, 0);
    for (let i = 0; i < r; i++) {
      for (let j = i + 1; j < r; j++) {
        put(i, h, j, h);
        put(i, h, j, -h);
        put(i, -h, j, h);
        put(i, -h, j, -h);
      }
    }
  }
}

/**
 * The Hessian (and optionally the gradient) of one point from its stencil values
 * f[fo .. fo + stencilRows). Writes `hessianColumns(layout, r)` numbers at out[oo..] and, when
 * `grad` is given, r numbers at grad[go..].
 */
export function combineHessian(
  scheme: Scheme,
  layout: Layout,
  f: Float64Array,
  fo: number,
  r: number,
  h: number,
  out: Float64Array,
  oo: number,
  grad: Float64Array | null,
  go: number,
): void {
  const f0 = f[fo];
  const packed = layout === 'packed';
  const store = (i: number, j: number, v: number) => {
    if (packed) {
      out[oo + packedIndex(i, j, r)] = i === j ? v : v * PACKED_OFFDIAGONAL_SCALE;
    } else {
      out[oo + i * r + j] = v;
      out[oo + j * r + i] = v;
    }
  };
  const h2 = h * h;
  if (scheme === 'forward') {
    const fi = fo + 1;
    let k = fo + 1 + r;
    for (let i = 0; i < r; i++) {
      for (let j = i; j < r; j++) {
        // H_ij = (f_ij - f_i - f_j + f_0) / h^2
        store(i, j, (f[k] - f[fi + i] - f[fi + j] + f0) / h2);
        k++;
      }
    }
    if (grad) for (let i = 0; i < r; i++) grad[go + i] = (f[fi + i] - f0) / h;
    return;
  }
  const fp = fo + 1;
  const fm = fo + 1 + r;
  for (let i = 0; i < r; i++) store(i, i, (f[fp + i] - 2 * f0 + f[fm + i]) / h2);
  let k = fo + 1 + 2 * r;
  const h4 = 4 * h2;
  for (let i = 0; i < r; i++) {
    for (let j = i + 1; j < r; j++) {
      store(i, j, (f[k] - f[k + 1] - f[k + 2] + f[k + 3]) / h4);
      k += 4;
    }
  }
  if (grad) for (let i = 0; i < r; i++) grad[go + i] = (f[fp + i] - f[fm + i]) / (2 * h);
}

/** The gradient of one point from its gradient-stencil values. */
export function combineGradient(scheme: Scheme, f: Float64Array, fo: number, r: number, h: number, out: Float64Array, oo: number): void {
  if (scheme === 'forward') {
    const f0 = f[fo];
    for (let i = 0; i < r; i++) out[oo + i] = (f[fo + 1 + i] - f0) / h;
  } else {
    for (let i = 0; i < r; i++) out[oo + i] = (f[fo + i] - f[fo + r + i]) / (2 * h);
  }
}
