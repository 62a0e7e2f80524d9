/** Small least-squares problems for the solver's tests: residuals, their Jacobian, and both strategies' views of them. */
import { matrixFrom, rng } from '@nnid/core';
import { gram, matmul } from '@nnid/linalg';
import type { JacobianOperator, NormalEquations } from '@nnid/optimize';

export type Model = { m: number; residual: (x: Float64Array) => Float64Array; jacobian: (x: Float64Array) => Float64Array };

/** J v and J^T w by loops over a J (m x n) formed at each linearization: no n x n matrix. */
export function operatorOf({ m, residual, jacobian }: Model): JacobianOperator & { products: number } {
  let J: Float64Array = new Float64Array(0);
  let n = 0;
  const op = {
    products: 0,
    async linearize(x: Float64Array) {
      n = x.length;
      J = jacobian(x);
      const columnNormsSquared = new Float64Array(n);
      for (let i = 0; i < m; i++) for (let k = 0; k < n; k++) columnNormsSquared[k] += J[i * n + k] ** 2;
      return { residuals: residual(x), columnNormsSquared };
    },
    async residuals(x: Float64Array) {
      return residual(x);
    },
    apply(v: Float64Array) {
      op.products++;
      const out = new Float64Array(m);
      for (let i = 0; i < m; i++) for (let k = 0; k < n; k++) out[i] += J[i * n + k] * v[k];
      return out;
    },
    applyTranspose(w: Float64Array) {
      op.products++;
      const out = new Float64Array(n);
      for (let i = 0; i < m; i++) for (let k = 0; k < n; k++) out[k] += J[i * n + k] * w[i];
      return out;
    },
  };
  return op;
}

/** The same problem as normal equations (the dense strategy). */
export function equationsOf({ m, residual, jacobian }: Model): NormalEquations {
  let J: Float64Array = new Float64Array(0);
  let r: Float64Array = new Float64Array(0);
  const sum = (v: Float64Array) => v.reduce((s, t) => s + t * t, 0);
  return {
    async evaluate(x) {
      r = residual(x);
      J = jacobian(x);
      const Jv = matrixFrom(J, m, x.length);
      return { sumSq: sum(r), JtJ: gram(Jv), grad: matmul(Jv, matrixFrom(r, m, 1), { transA: true }).data };
    },
    async sumOf(x) {
      r = residual(x);
      return sum(r);
    },
    gradientAtLast() {
      return matmul(matrixFrom(J, m, J.length / m), matrixFrom(r, m, 1), { transA: true }).data;
    },
  };
}

/**
 * A one-hidden-layer tanh network f(x) = sum_j c_j tanh(w_j . x + b_j) (d = 3, 4 units: 20
 * parameters [w (4 x 3), b, c]) fitted to its own values at 60 Gaussian points.
 */
export function networkFit(truth: Float64Array): Model {
  const d = 3;
  const h = 4;
  const N = 60;
  const X = new Float64Array(N * d);
  rng(7).fillNormal(X);
  const forward = (p: Float64Array, n: number, J: Float64Array | null) => {
    let f = 0;
    for (let j = 0; j < h; j++) {
      let s = p[h * d + j];
      for (let t = 0; t < d; t++) s += p[j * d + t] * X[n * d + t];
      const a = Math.tanh(s);
      f += p[h * d + h + j] * a;
      if (J) {
        const slope = p[h * d + h + j] * (1 - a * a);
        for (let t = 0; t < d; t++) J[n * 20 + j * d + t] = slope * X[n * d + t];
        J[n * 20 + h * d + j] = slope;
        J[n * 20 + h * d + h + j] = a;
      }
    }
    return f;
  };
  const y = Float64Array.from({ length: N }, (_, n) => forward(truth, n, null));
  return {
    m: N,
    residual: (p) => Float64Array.from({ length: N }, (_, n) => forward(p, n, null) - y[n]),
    jacobian: (p) => {
      const J = new Float64Array(N * 20);
      for (let n = 0; n < N; n++) forward(p, n, J);
      return J;
    },
  };
}

/** Rosenbrock's function as residuals: r = (10 (x2 - x1^2), 1 - x1); minimum 0 at (1, 1). */
export const rosenbrock = () =>
  equationsOf({
    m: 2,
    residual: (x) => Float64Array.of(10 * (x[1] - x[0] * x[0]), 1 - x[0]),
    jacobian: (x) => Float64Array.of(-20 * x[0], 10, -1, 0),
  });

/** y_k = a exp(b t_k) (+ noise) on t_k = k / 10, k < 30; parameters (a, b). */
export function exponentialFit(a: number, b: number, noise = 0) {
  const t = Float64Array.from({ length: 30 }, (_, k) => k / 10);
  // a fixed, sign-alternating perturbation: the minimum is then nonzero
  const y = t.map((tk, k) => a * Math.exp(b * tk) + noise * (k % 2 === 0 ? 1 : -1) * (1 + (k % 3)));
  const model: Model = {
    m: t.length,
    residual: (x) => t.map((tk, k) => x[0] * Math.exp(x[1] * tk) - y[k]),
    jacobian: (x) => {
      const J = new Float64Array(2 * t.length);
      t.forEach((tk, k) => {
        const e = Math.exp(x[1] * tk);
        J[2 * k] = e;
        J[2 * k + 1] = x[0] * tk * e;
      });
      return J;
    },
  };
  return { model, eqs: equationsOf(model), yNorm: Math.hypot(...y) };
}
