import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, ACTIVATION_TABLE, activation } from '../src/index.ts';
import { expectDerivativesMatchDifferences, expectFusedPathMatches, POINTS } from './activation-checks.ts';

describe('the activation table', () => {
  it('has one definition per name, found by activation(name)', () => {
    expect(Object.keys(ACTIVATION_TABLE).sort()).toEqual([...ACTIVATIONS].sort());
    for (const name of ACTIVATIONS) {
      expect(activation(name)).toBe(ACTIVATION_TABLE[name]);
      expect(activation(name).name).toBe(name);
    }
  });

  for (const name of ACTIVATIONS) {
    it(`${name}: derivatives up to the third agree with finite differences`, () => {
      expectDerivativesMatchDifferences(activation(name));
    });
    it(`${name}: the fused valuesSlopes gives value and d1 bit for bit, at an offset, with or without slopes`, () => {
      expectFusedPathMatches(activation(name));
    });
  }

  it('known values', () => {
    const tanh = activation('tanh');
    const sigmoid = activation('sigmoid');
    expect(tanh.value(0)).toBe(0);
    expect(tanh.d1(0)).toBe(1);
    expect(tanh.d3(0)).toBe(-2);
    expect(sigmoid.value(0)).toBe(0.5);
    expect(sigmoid.d1(0)).toBe(0.25);
    expect(sigmoid.d2(0)).toBe(0);
    expect(sigmoid.d3(0)).toBe(-0.125);
    // no overflow far out on either side
    expect(sigmoid.value(-800)).toBe(0);
    expect(sigmoid.value(800)).toBe(1);
    // sigmoid(t) = (1 + tanh(t / 2)) / 2
    for (const t of POINTS) expect(Math.abs(sigmoid.value(t) - (1 + Math.tanh(t / 2)) / 2)).toBeLessThan(1e-15);
  });
});
