/**
 * Minimum-cost assignment (Hungarian algorithm, O(n^2 m)) of the n rows of a cost matrix to
 * distinct columns, n <= m. Returns `assignment[row] = column`.
 */
export function hungarian(cost: Float64Array, n: number, m: number): Int32Array {
  if (n > m) throw new Error(`hungarian: rows (${n}) must not exceed columns (${m})`);
  const INF = Number.POSITIVE_INFINITY;
  // a non-finite cost (a NaN weight) would never be chosen and the augmenting loop would not end:
  // it becomes worse than every finite cost
  let worst = 0;
  for (const c of cost) if (Number.isFinite(c)) worst = Math.max(worst, Math.abs(c));
  if (!cost.every(Number.isFinite)) cost = cost.map((c) => (Number.isFinite(c) ? c : 2 * worst + 1));
  // 1-based potentials and matching, after the classic shortest-augmenting-path formulation.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j] = row matched to column j
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const assignment = new Int32Array(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j] > 0) assignment[p[j] - 1] = j - 1;
  return assignment;
}
