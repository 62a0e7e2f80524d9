import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, ACTIVATION_TABLE, activation, checkActivation, type ActivationName } from '../src/index.ts';
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

  // reference: mpmath at 40 digits (ncdf, tanh, exp, atan, and diff for the derivatives)
  const KNOWN: Record<Exclude<ActivationName, 'tanh' | 'sigmoid'>, { values: [number, number][]; derivatives: [number, [number, number, number]][] }> = {
    softplus: {
      values: [[0, 0.6931471805599453], [-40, 4.248354255291589e-18], [30, 30.000000000000092], [1.5, 1.7014132779827524]],
      derivatives: [[0.7, [0.668187772168166, 0.22171287329310904, -0.07457878844034181]], [-1.9, [0.13010847436299786, 0.113180259261931, 0.08372883754077419]]],
    },
    gelu: {
      values: [[1, 0.8413447460685429], [-3, -0.0040496940948902835], [-10, -7.619853024160526e-23], [2.5, 2.4844758366855597]],
      derivatives: [[0.7, [0.9766141011336599, 0.4715034393838095, -0.7672079142821324]], [-1.9, [-0.09595348825588373, -0.1056414617872293, 0.0486213187480354]]],
    },
    gelu_tanh: {
      values: [[1, 0.8411919906082767], [-3, -0.003637392081773019], [0.5, 0.34571400982514394]],
      derivatives: [[0.7, [0.9763572186561039, 0.4708629268446337, -0.7662623355087341]], [-1.9, [-0.09678180809979461, -0.10497029419139428, 0.054072913064536064]]],
    },
    silu: {
      values: [[1, 0.7310585786300049], [-20, -4.122307236380407e-8], [3, 2.8577223804672998]],
      derivatives: [[0.7, [0.8233867834733424, 0.3912205946779789, -0.2749950663881712]], [-1.9, [-0.084934018234671, 0.06727572719639102, 0.18217541041186994]]],
    },
    arctan: {
      values: [[1, 0.7853981633974483], [-2, -1.1071487177940904]],
      derivatives: [[0.7, [0.6711409395973155, -0.6306022251249944, 0.28416399406399545]], [-1.9, [0.21691973969631237, 0.17880585918568048, 0.20066920833374122]]],
    },
  };
  for (const [name, { values, derivatives }] of Object.entries(KNOWN)) {
    // gelu: erfc(x) at x = -t / sqrt 2 has condition number ~2 x^2, so the rounding of x alone costs ~t^2 ulp
    const valueTolerance = name === 'gelu' ? 2e-14 : 1e-15;
    it(`${name}: known values (relative ${valueTolerance}, also far in the tails) and derivatives (relative 1e-14)`, () => {
      const phi = activation(name as ActivationName);
      for (const [t, v] of values) expect([t, Math.abs(phi.value(t) - v) / Math.abs(v)]).toEqual([t, expect.toSatisfy((e: number) => e <= valueTolerance)]);
      for (const [t, [v1, v2, v3]] of derivatives) {
        for (const [k, got, want] of [[1, phi.d1(t), v1], [2, phi.d2(t), v2], [3, phi.d3(t), v3]] as const) {
          expect([t, k, Math.abs(got - want) / Math.abs(want)]).toEqual([t, k, expect.toSatisfy((e: number) => e <= 1e-14)]);
        }
      }
    });
  }

  it('relu, leaky relu, elu, hardtanh are refused with why and what would work; unknown names list the known ones', () => {
    const known = "'tanh', 'sigmoid', 'softplus', 'gelu', 'gelu_tanh', 'silu', 'arctan'";
    expect(() => checkActivation('activation.layer1', 'relu')).toThrow(
      `invalid argument. \`activation.layer1\` must be a smooth activation: relu is piecewise linear: its second derivative is zero almost everywhere and undefined at the kinks, so the Hessians nnid identifies from carry nothing; use a smooth one instead (softplus is a smooth relu; gelu and silu are smooth too), one of ${known}. Value: \`relu\`.`,
    );
    for (const name of ['LeakyReLU', 'leaky_relu', 'hardtanh']) expect(() => checkActivation('a', name)).toThrow(`must be a smooth activation: ${name} is piecewise linear`);
    expect(() => checkActivation('a', 'elu')).toThrow('must be a smooth activation: elu is not twice differentiable at 0: its second derivative jumps there');
    expect(() => checkActivation('a', 'cube')).toThrow(`invalid argument. \`a\` must be one of ${known}. Value: \`cube\`.`);
    for (const name of ACTIVATIONS) expect(checkActivation('a', name)).toBe(name);
  });
});
