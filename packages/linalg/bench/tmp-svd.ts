import { rng } from '@nnid/core';
import { svd, useTier } from '../src/index.ts';
const r = (a: number, b: number, s: number) => { const d = new Float64Array(a*b); rng(s).fillNormal(d); return { data: d, offset: 0, shape: [a, b], strides: [b, 1] }; };
for (const t of ['native', 'typescript'] as const) { useTier(t);
for (const [n, p] of [[100, 2500], [300, 2500], [500, 500]]) {
  const x = r(n, p, 1);
  const t0 = performance.now(); svd(x); console.log(t, n, p, ((performance.now() - t0) / 1000).toFixed(3));
}}
