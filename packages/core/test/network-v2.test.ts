import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  generalParameterCount,
  parseNetwork,
  parseNetworkV2,
  readNetworkAny,
  serializeNetworkV2,
  toGeneral,
  toNetworkV1,
  toRows,
  type GeneralNetworkJson,
} from '@nnid/core';

/** A valid d = 4, m0 = 3, m1 = 2, k = 2 network file. */
function valid(): GeneralNetworkJson {
  return {
    format: 'nnid.network/v2',
    inputDim: 4,
    layers: [
      { weight: [[1, 2, 0, 0], [0, 1, 0, 0], [0, 0, 0.6, 3]], bias: [0.1, -0.2, 0.3], activation: 'tanh' },
      { weight: [[0.6, 0.8, 0], [0, 0, 1]], bias: [0.05, -0.05], activation: 'gelu' },
      { weight: [[1, -2], [0.5, 0.25]], bias: [3, -1] },
    ],
  };
}

function errorOf(json: unknown): Error {
  try {
    parseNetworkV2(json);
  } catch (e) {
    return e as Error;
  }
  throw new Error('parsed');
}

describe('nnid.network/v2', () => {
  it('parses and serializes back exactly; P counts every weight and bias', () => {
    const net = parseNetworkV2(valid());
    expect([net.inputDim, net.width1, net.width2, net.outputs]).toEqual([4, 3, 2, 2]);
    expect(net.activation).toEqual({ layer1: 'tanh', layer2: 'gelu' });
    expect(toRows(net.C)).toEqual([[1, -2], [0.5, 0.25]]);
    expect(serializeNetworkV2(net)).toEqual(valid());
    expect(generalParameterCount(net)).toBe(4 * 3 + 3 + 3 * 2 + 2 + 2 * 2 + 2);
  });

  it('accepts wider layers than v1 (m0 > d): the file holds what users train', () => {
    const json = valid();
    json.inputDim = 2;
    json.layers[0].weight = [[1, 2], [3, 4], [5, 6]];
    expect(parseNetworkV2(json).width1).toBe(3);
  });

  it('names the layer, field and index of a bad entry, one line each', () => {
    const cases: [(j: GeneralNetworkJson) => void, string][] = [
      [(j) => ((j.layers[1].weight[1] as unknown[])[2] = 'x'), 'invalid network: `layers[1].weight[1][2]` is "x", expected a finite number'],
      [(j) => (j.layers[0].weight[2] = [1, 2, 3]), 'invalid network: `layers[0].weight[2]` has 3 numbers, expected inputDim = 4'],
      [(j) => (j.layers[1].bias = [1]), 'invalid network: `layers[1].bias` has 1 numbers, expected m1 (rows of layers[1].weight) = 2'],
      [(j) => (j.layers[2].weight[0] = [1, 2, 3]), 'invalid network: `layers[2].weight[0]` has 3 numbers, expected m1 (rows of layers[1].weight) = 2'],
      [(j) => (j.layers[2].bias = [1, Infinity]), 'invalid network: `layers[2].bias[1]` is Infinity, expected a finite number'],
      [(j) => (j.inputDim = 0), 'invalid network: `inputDim` is 0, expected a positive integer'],
      [(j) => ((j as { format: string }).format = 'nnid.network/v3'), 'invalid network: `format` is "nnid.network/v3", expected "nnid.network/v2"'],
      [(j) => delete (j.layers[0] as { activation?: string }).activation, 'invalid network: `layers[0].activation` is missing: a hidden layer needs one of tanh, sigmoid, softplus, gelu, gelu_tanh, silu, arctan'],
      [(j) => ((j.layers[2] as { activation?: string }).activation = 'sigmoid'), 'invalid network: `layers[2].activation` is "sigmoid": the last layer is the linear output layer (f = C h + c) and takes no activation'],
      [(j) => j.layers.splice(2, 0, { weight: [[1, 0], [0, 1]], bias: [0, 0], activation: 'tanh' } as never), 'invalid network: `layers` has 4 layers (3 hidden): nnid takes two hidden layers and a linear output layer, expected 3: two hidden layers with an "activation", then the linear output layer without one'],
      [(j) => j.layers.pop(), 'invalid network: `layers` has 2 layers and the last has an activation: the linear output layer is missing, expected 3: two hidden layers with an "activation", then the linear output layer without one'],
    ];
    for (const [edit, message] of cases) {
      const json = valid();
      edit(json);
      const err = errorOf(json);
      expect([(err as { code?: string }).code, err.message]).toEqual(['E_NETWORK_FORMAT', message]);
    }
  });

  it('refuses relu with checkActivation\'s line', () => {
    const json = valid();
    (json.layers[1] as { activation: string }).activation = 'relu';
    const err = errorOf(json);
    expect(err.message).toMatch(/^invalid argument\. `layers\[1\]\.activation` must be a smooth activation: relu is piecewise linear: .* Value: `relu`\.$/);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('toGeneral is exact (C = 1^T, c = 0) and toNetworkV1 inverts it; a general network is not v1', () => {
    const v1 = parseNetwork({
      format: 'nnid.network/v1',
      activation: { layer1: 'tanh', layer2: 'sigmoid' },
      inputDim: 3,
      A: [[1, 0, 0], [0, 0.6, 0.8]],
      theta: [0.1, 0.2],
      B: [[0.6, 0.8]],
      tau: [0.3],
    });
    const g = toGeneral(v1);
    expect([g.outputs, toRows(g.C), Array.from(g.c), generalParameterCount(g)]).toEqual([1, [[1]], [0], 3 * 2 + 2 + 2 + 1 + 1 + 1]);
    const back = toNetworkV1(g);
    expect([toRows(back.A), Array.from(back.theta), toRows(back.B), Array.from(back.tau)]).toEqual([toRows(v1.A), Array.from(v1.theta), toRows(v1.B), Array.from(v1.tau)]);
    expect(() => toNetworkV1(parseNetworkV2(valid()))).toThrow('invalid network: `layers[2].weight` has 2 rows (k = 2 outputs): nnid.network/v1 holds one output');
  });

  it('readNetworkAny reads either format by its "format"', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nnid-v2-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'net.json');
    writeFileSync(file, JSON.stringify(valid()));
    const read = readNetworkAny(file);
    expect([read.format, read.general.outputs]).toEqual(['nnid.network/v2', 2]);
    writeFileSync(file, JSON.stringify({ format: 'x' }));
    expect(() => readNetworkAny(file)).toThrow('invalid network: `format` is "x", expected "nnid.network/v1" or "nnid.network/v2"');
  });
});
