/**
 * The projected ascent of Phi(u) = |P_W(u u^T)|_F^2 on the unit sphere, for one start. Trusts its
 * inputs: the public entry (solve.ts) checks them.
 *
 * W is given by k symmetric n x n matrices W_j in upper-packed order (entry (a, b), a <= b, at
 * a*n - a(a-1)/2 + (b - a)), NOT scaled: c_j = u^T W_j u. When the W_j are an orthonormal basis
 * of W (Frobenius), Phi(u) = sum_j c_j^2. With `restrictTo` Q the W_j are Q^T W_j Q: the c_j
 * and hence Phi are unchanged for u = Q y, and the step below is the projected gradient in y.
 */

/** Scratch buffers for one thread: allocate once, reuse for every start. */
export interface AscentScratch {
  u: Float64Array;
  next: Float64Array;
  outer: Float64Array;
  coef: Float64Array;
  M: Float64Array;
  /** k x n: W_j u (Newton steps). */
  G: Float64Array;
  /** n x n: the negated Riemannian Hessian, then its Cholesky factor. */
  S: Float64Array;
  r: Float64Array;
}

export function ascentScratch(n: number, k: number): AscentScratch {
  const p = (n * (n + 1)) / 2;
  return {
    u: new Float64Array(n),
    next: new Float64Array(n),
    outer: new Float64Array(p),
    coef: new Float64Array(k),
    M: new Float64Array(p),
    G: new Float64Array(k * n),
    S: new Float64Array(n * n),
    r: new Float64Array(n),
  };
}

export interface AscentParams {
  n: number;
  k: number;
  gamma: number;
  maxIterations: number;
  /** Stop when |u_{t+1} - u_t|_2 <= tolerance. */
  tolerance: number;
  /** Try Riemannian Newton steps once the ascent moves less than this (0: never). */
  newtonSwitch: number;
}

export interface AscentOutcome {
  phi: number;
  iterations: number;
  converged: boolean;
  newtonSteps: number;
}

/**
 * Phi(u) and the coefficients c_j = u^T W_j u (into coef); M = sum_j c_j W_j (packed, into M).
 */
export function evaluatePhi(W: Float64Array, n: number, k: number, u: Float64Array, s: AscentScratch, withM: boolean): number {
  const p = (n * (n + 1)) / 2;
  const outer = s.outer;
  // outer = u u^T packed, off-diagonal doubled so that c_j = <W_j(packed), outer>
  let idx = 0;
  for (let a = 0; a < n; a++) {
    const ua = u[a];
    outer[idx++] = ua * ua;
    const ua2 = 2 * ua;
    for (let b = a + 1; b < n; b++) outer[idx++] = ua2 * u[b];
  }
  let phi = 0;
  const coef = s.coef;
  for (let j = 0; j < k; j++) {
    const base = j * p;
    let c = 0;
    for (let q = 0; q < p; q++) c += W[base + q] * outer[q];
    coef[j] = c;
    phi += c * c;
  }
  if (withM) {
    const M = s.M;
    M.fill(0);
    for (let j = 0; j < k; j++) {
      const c = coef[j];
      const base = j * p;
      for (let q = 0; q < p; q++) M[q] += c * W[base + q];
    }
  }
  return phi;
}

/** out = M u for packed symmetric M. */
function packedMatVec(M: Float64Array, n: number, u: Float64Array, out: Float64Array): void {
  out.fill(0);
  let idx = 0;
  for (let a = 0; a < n; a++) {
    const ua = u[a];
    let acc = M[idx++] * ua;
    for (let b = a + 1; b < n; b++) {
      const m = M[idx++];
      acc += m * u[b];
      out[b] += m * ua;
    }
    out[a] += acc;
  }
}

/**
 * One Riemannian Newton step for the maximum of Phi on the sphere, into s.next (unit). With
 * g_j = W_j u: grad Phi = 4 M u, Hess Phi = 8 sum_j g_j g_j^T + 4 M; on the sphere the Newton
 * system is P(8 sum g_j g_j^T + 4 M - 4 Phi I)P xi = -4 P M u, xi in u^perp. Returns false when
 * the (negated) Riemannian Hessian is not positive definite: not near a strict local maximum.
 */
export function newtonStep(W: Float64Array, n: number, k: number, phi: number, s: AscentScratch): boolean {
  const p = (n * (n + 1)) / 2;
  const { u, M, G, S, r, next } = s;
  for (let j = 0; j < k; j++) {
    const g = G.subarray(j * n, (j + 1) * n);
    packedMatVec(W.subarray(j * p, (j + 1) * p), n, u, g);
  }
  // r = M u - phi u (the Riemannian gradient / 4)
  packedMatVec(M, n, u, r);
  for (let a = 0; a < n; a++) r[a] -= phi * u[a];
  // S = -(2 sum g g^T + M - phi I): Hess/4 negated; rows and columns a <= b
  let idx = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let acc = 0;
      for (let j = 0; j < k; j++) acc += G[j * n + a] * G[j * n + b];
      const v = -(2 * acc + M[idx++]) + (a === b ? phi : 0);
      S[a * n + b] = v;
      S[b * n + a] = v;
    }
  }
  return newtonSolve(n, s);
}

/**
 * The Newton step's second half: with S = -(Hess/4) (full n x n, unprojected) and r the
 * Riemannian gradient / 4 in the scratch, projects S, factors it and writes the unit iterate into
 * s.next. Returns false when the projected S is not positive definite.
 */
export function newtonSolve(n: number, s: AscentScratch): boolean {
  const { u, S, r, next } = s;
  // project: S <- P S P + u u^T, P = I - u u^T
  const Su = next;
  for (let a = 0; a < n; a++) {
    let acc = 0;
    for (let b = 0; b < n; b++) acc += S[a * n + b] * u[b];
    Su[a] = acc;
  }
  let uSu = 0;
  for (let a = 0; a < n; a++) uSu += u[a] * Su[a];
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) S[a * n + b] += -u[a] * Su[b] - Su[a] * u[b] + (uSu + 1) * u[a] * u[b];
  }
  // Cholesky S = L L^T (lower triangle, in place)
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < j; i++) {
      let acc = S[j * n + i];
      for (let t = 0; t < i; t++) acc -= S[j * n + t] * S[i * n + t];
      S[j * n + i] = acc / S[i * n + i];
    }
    let d = S[j * n + j];
    for (let t = 0; t < j; t++) d -= S[j * n + t] * S[j * n + t];
    if (!(d > 0)) return false;
    S[j * n + j] = Math.sqrt(d);
  }
  // S xi = r  (Newton: -Hess xi = grad), solved into r
  for (let i = 0; i < n; i++) {
    let acc = r[i];
    for (let t = 0; t < i; t++) acc -= S[i * n + t] * r[t];
    r[i] = acc / S[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let acc = r[i];
    for (let t = i + 1; t < n; t++) acc -= S[t * n + i] * r[t];
    r[i] = acc / S[i * n + i];
  }
  let norm = 0;
  for (let a = 0; a < n; a++) {
    const v = u[a] + r[a];
    next[a] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm);
  for (let a = 0; a < n; a++) next[a] /= norm;
  return true;
}

/**
 * Runs the ascent u <- normalize(u + gamma P_W(u u^T) u) from s.u (a unit vector) in place.
 * P_W(u u^T) u = M u with M = sum_j c_j W_j. Near a maximizer (steps below `newtonSwitch`) it
 * takes Riemannian Newton steps instead, kept only while they do not lower Phi: the ascent
 * converges linearly and slowly where the maximum is flat.
 */
export function ascend(W: Float64Array, params: AscentParams, s: AscentScratch): AscentOutcome {
  const { n, k, gamma, maxIterations, tolerance, newtonSwitch } = params;
  const u = s.u;
  const next = s.next;
  let phi = 0;
  let change = Infinity;
  let newtonSteps = 0;
  let newtonPause = 0;
  for (let it = 1; it <= maxIterations; it++) {
    phi = evaluatePhi(W, n, k, u, s, true);
    let tookNewton = false;
    if (newtonPause > 0) newtonPause--;
    else if (change <= newtonSwitch && newtonStep(W, n, k, phi, s)) {
      const before = phi;
      // next holds the Newton iterate: keep it only if Phi does not drop
      const saved = s.u.slice();
      u.set(next);
      const after = evaluatePhi(W, n, k, u, s, false);
      if (after >= before - 1e-15) {
        tookNewton = true;
        newtonSteps++;
        let c2 = 0;
        for (let a = 0; a < n; a++) c2 += (u[a] - saved[a]) ** 2;
        change = Math.sqrt(c2);
        phi = after;
      } else {
        u.set(saved);
        newtonPause = 10;
        phi = evaluatePhi(W, n, k, u, s, true);
      }
    } else if (change <= newtonSwitch) newtonPause = 10;
    if (!tookNewton) {
      packedMatVec(s.M, n, u, next);
      let norm = 0;
      for (let a = 0; a < n; a++) {
        const v = u[a] + gamma * next[a];
        next[a] = v;
        norm += v * v;
      }
      norm = Math.sqrt(norm);
      let c2 = 0;
      for (let a = 0; a < n; a++) {
        const v = next[a] / norm;
        const diff = v - u[a];
        c2 += diff * diff;
        u[a] = v;
      }
      change = Math.sqrt(c2);
    }
    if (change <= tolerance) {
      return { phi: evaluatePhi(W, n, k, u, s, false), iterations: it, converged: true, newtonSteps };
    }
  }
  return { phi: evaluatePhi(W, n, k, u, s, false), iterations: maxIterations, converged: false, newtonSteps };
}
