/**
 * The derivative rows of the student's least squares (equations.ts gradientResiduals): the
 * network's input gradient against central differences of its values, and the rows' parameter
 * Jacobian against central differences of the rows, for k = 2 outputs and mixed activations.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '@nnid/core';
import { generalLayoutOf } from '@nnid/refine';
import { gradientResiduals, studentResiduals } from '../src/equations.ts';
import { startGeneral } from '../src/start.ts';

describe('gradientResiduals', () => {
  const shape = { inputDim: 5, width1: 4, width2: 3, activation: { layer1: 'gelu', layer2: 'tanh' }, model: 'general', outputs: 2 } as const;
  const layout = generalLayoutOf(startGeneral(shape, 0, 0));
  const stream = rng(7);
  const p = stream.fillNormal(new Float64Array(layout.size));
  const n = 3;
  const X = stream.fillNormal(new Float64Array(n * 5));
  const k = 2;

  it('the residual is w (grad f - G): grad f against central differences of f', () => {
    const G = stream.fillNormal(new Float64Array(n * k * 5));
    const r = new Float64Array(n * k * 5);
    gradientResiduals(p, layout, X, { points: n, values: G, weight: 2 }, layout.size, r);
    const h = 1e-5;
    const fv = new Float64Array(k);
    const value = (x: Float64Array) => {
      studentResiduals(p, layout, x, new Float64Array(k), 1, layout.size, fv);
      return Float64Array.from(fv);
    };
    let worst = 0;
    for (let j = 0; j < n; j++) {
      for (let q = 0; q < 5; q++) {
        const up = X.slice(j * 5, j * 5 + 5);
        const down = up.slice();
        up[q] += h;
        down[q] -= h;
        const fu = value(up);
        const fd = value(down);
        for (let o = 0; o < k; o++) {
          const fdGrad = (fu[o] - fd[o]) / (2 * h);
          worst = Math.max(worst, Math.abs(r[(j * k + o) * 5 + q] / 2 + G[(j * k + o) * 5 + q] - fdGrad));
        }
      }
    }
    expect(worst).toBeLessThan(1e-8);
  });

  for (const free of ['all', 'hidden'] as const) {
    it(`the Jacobian by ${free === 'all' ? 'every parameter' : 'the hidden layers (paper form)'} against central differences`, () => {
      const cols = free === 'all' ? layout.size : layout.offC;
      const G = new Float64Array(n * k * 5);
      const rows = n * k * 5;
      const J = new Float64Array(rows * cols);
      const r = new Float64Array(rows);
      const data = { points: n, values: G, weight: 0.5 };
      gradientResiduals(p, layout, X, data, cols, r, J);
      const h = 1e-6;
      const ru = new Float64Array(rows);
      const rd = new Float64Array(rows);
      let worst = 0;
      for (let c = 0; c < cols; c++) {
        const q = p.slice();
        q[c] = p[c] + h;
        gradientResiduals(q, layout, X, data, cols, ru);
        q[c] = p[c] - h;
        gradientResiduals(q, layout, X, data, cols, rd);
        for (let i = 0; i < rows; i++) worst = Math.max(worst, Math.abs(J[i * cols + c] - (ru[i] - rd[i]) / (2 * h)));
      }
      expect(worst).toBeLessThan(1e-7);
    });
  }
});
