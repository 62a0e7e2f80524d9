/** Checks every activation definition must pass (shared by the table's tests and the test-only definition's). */
import { expect } from 'vitest';
import type { Activation } from '../src/index.ts';

/** Central difference of f at t with step h, Richardson-extrapolated (error O(h^4)). */
function central(f: (t: number) => number, t: number, h: number): number {
  const D = (k: number) => (f(t + k) - f(t - k)) / (2 * k);
  return (4 * D(h / 2) - D(h)) / 3;
}

export const POINTS = [-6, -2.5, -1, -0.3, 0, 0.2, 0.7, 1.5, 3, 5.5];

export function expectDerivativesMatchDifferences(phi: Activation): void {
  const h = 1e-3;
  for (const t of POINTS) {
    // truncation ~ h^4 |phi^(k+4)| / 480, rounding ~ 1e-16 / h: 1e-11 and below here
    expect(Math.abs(central((s) => phi.value(s), t, h) - phi.d1(t))).toBeLessThan(1e-10);
    expect(Math.abs(central((s) => phi.d1(s), t, h) - phi.d2(t))).toBeLessThan(1e-10);
    expect(Math.abs(central((s) => phi.d2(s), t, h) - phi.d3(t))).toBeLessThan(1e-10);
  }
}

export function expectFusedPathMatches(phi: Activation): void {
  const t = Float64Array.from([0, ...POINTS, 40, -40]);
  const values = new Float64Array(t.length - 2);
  const slopes = new Float64Array(t.length - 2);
  phi.valuesSlopes(t, 2, t.length - 2, values, slopes);
  const valuesOnly = new Float64Array(t.length - 2);
  phi.valuesSlopes(t, 2, t.length - 2, valuesOnly, null);
  for (let i = 0; i < values.length; i++) {
    // bit for bit: the fused path is the same arithmetic as value and d1
    expect(Object.is(values[i], phi.value(t[i + 2]))).toBe(true);
    expect(Object.is(slopes[i], phi.d1(t[i + 2]))).toBe(true);
    expect(Object.is(valuesOnly[i], values[i])).toBe(true);
  }
}
