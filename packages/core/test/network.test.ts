import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NetworkFormatError, NnidError, parameterCount, parseNetwork, readNetworkFile, serializeNetwork, toRows, type NetworkJson } from '@nnid/core';

/** A valid d = 4, m0 = 3, m1 = 2 network file as JSON. */
function valid(): NetworkJson {
  return {
    format: 'nnid.network/v1',
    activation: { layer1: 'tanh', layer2: 'sigmoid' },
    inputDim: 4,
    A: [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 0.6, 0.8],
    ],
    theta: [0.1, -0.2, 0.3],
    B: [
      [0.6, 0.8, 0],
      [0, 0, 1],
    ],
    tau: [0.05, -0.05],
  };
}

/** Asserts that parsing `json` fails with E_NETWORK_FORMAT, the field `path` and exactly `message`. */
function expectFormatError(json: unknown, path: string, message: string): void {
  let caught: unknown;
  try {
    parseNetwork(json);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(NetworkFormatError);
  const err = caught as NetworkFormatError;
  expect(err.code).toBe('E_NETWORK_FORMAT');
  expect(err.path).toBe(path);
  expect(err.message).toBe(message);
}

const dir = mkdtempSync(join(tmpdir(), 'nnid-core-network-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nnid.network/v1: a valid file', () => {
  it('parses into views with the rows of the file, and serializes back to the same numbers', () => {
    const net = parseNetwork(valid());
    expect([net.inputDim, net.width1, net.width2]).toEqual([4, 3, 2]);
    expect(net.A.shape).toEqual([3, 4]);
    expect(net.B.shape).toEqual([2, 3]);
    expect(toRows(net.A)[2]).toEqual([0, 0, 0.6, 0.8]);
    expect(Array.from(net.tau)).toEqual([0.05, -0.05]);
    expect(serializeNetwork(net)).toEqual(valid());
    expect(parameterCount(net)).toBe(4 * 3 + 3 + 3 * 2 + 2);
  });

  it('ignores extra fields such as report, and can put the weights on shared memory', () => {
    const net = parseNetwork({ ...valid(), report: { queries: { total: 5 } } }, { shared: true });
    expect(net.A.data.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('m1 = m0 = d is allowed', () => {
    const json = valid();
    json.inputDim = 3;
    json.A = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    json.B = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    json.tau = [0, 0, 0];
    expect(parseNetwork(json).width2).toBe(3);
  });
});

describe('nnid.network/v1: each bad input has its own error (E_NETWORK_FORMAT, the field, what was expected)', () => {
  it('not an object', () => {
    expectFormatError([1, 2], '(root)', 'invalid network: `(root)` is an array, expected an object');
  });

  it('wrong format string', () => {
    expectFormatError({ ...valid(), format: 'nnid.network/v2' }, 'format', 'invalid network: `format` is "nnid.network/v2", expected "nnid.network/v1"');
  });

  it('missing format string', () => {
    const json: Record<string, unknown> = { ...valid() };
    delete json.format;
    expectFormatError(json, 'format', 'invalid network: `format` is missing, expected "nnid.network/v1"');
  });

  it('activation is not an object', () => {
    expectFormatError({ ...valid(), activation: 'tanh' }, 'activation', 'invalid network: `activation` is "tanh", expected { "layer1": ..., "layer2": ... }');
  });

  it('unknown activation (layer 1)', () => {
    expectFormatError(
      { ...valid(), activation: { layer1: 'relu', layer2: 'tanh' } },
      'activation.layer1',
      'invalid network: `activation.layer1` is "relu": unknown activation, expected one of tanh, sigmoid, softplus, gelu, gelu_tanh, silu, arctan',
    );
  });

  it('unknown activation (layer 2, missing)', () => {
    expectFormatError(
      { ...valid(), activation: { layer1: 'tanh' } },
      'activation.layer2',
      'invalid network: `activation.layer2` is missing: unknown activation, expected one of tanh, sigmoid, softplus, gelu, gelu_tanh, silu, arctan',
    );
  });

  it('inputDim is not a positive integer', () => {
    expectFormatError({ ...valid(), inputDim: 2.5 }, 'inputDim', 'invalid network: `inputDim` is 2.5, expected a positive integer');
    expectFormatError({ ...valid(), inputDim: 0 }, 'inputDim', 'invalid network: `inputDim` is 0, expected a positive integer');
  });

  it('wrong shape: a row of A with the wrong length', () => {
    const json = valid();
    json.A[2] = [0, 0, 1];
    expectFormatError(json, 'A[2]', 'invalid network: `A[2]` has 3 numbers, expected inputDim = 4');
  });

  it('wrong shape: a row of A that is not an array', () => {
    const json = valid() as unknown as Record<string, unknown[]>;
    json.A[1] = 5;
    expectFormatError(json, 'A[1]', 'invalid network: `A[1]` is 5, expected an array of 4 numbers');
  });

  it('wrong shape: A empty or not an array', () => {
    expectFormatError({ ...valid(), A: [] }, 'A', 'invalid network: `A` is empty, expected a nonempty array of rows');
    expectFormatError({ ...valid(), A: { 0: [1] } }, 'A', 'invalid network: `A` is an object, expected a nonempty array of rows');
  });

  it('wrong shape: theta does not have m0 numbers', () => {
    expectFormatError({ ...valid(), theta: [0.1, 0.2] }, 'theta', 'invalid network: `theta` has 2 numbers, expected m0 (rows of A) = 3');
  });

  it('wrong shape: a row of B does not have m0 numbers', () => {
    const json = valid();
    json.B[1] = [0, 1];
    expectFormatError(json, 'B[1]', 'invalid network: `B[1]` has 2 numbers, expected m0 (rows of A) = 3');
  });

  it('wrong shape: tau does not have m1 numbers', () => {
    expectFormatError({ ...valid(), tau: [0.05] }, 'tau', 'invalid network: `tau` has 1 numbers, expected m1 (rows of B) = 2');
  });

  it('non-finite number: null in A (how JSON writes NaN)', () => {
    const json = valid() as unknown as { A: unknown[][] };
    json.A[1][2] = null;
    expectFormatError(json, 'A[1][2]', 'invalid network: `A[1][2]` is null, expected a finite number');
  });

  it('non-finite number: Infinity in theta', () => {
    expectFormatError({ ...valid(), theta: [0.1, Infinity, 0.3] }, 'theta[1]', 'invalid network: `theta[1]` is Infinity, expected a finite number');
  });

  it('non-finite number: NaN in B', () => {
    const json = valid();
    json.B[0][1] = NaN;
    expectFormatError(json, 'B[0][1]', 'invalid network: `B[0][1]` is NaN, expected a finite number');
  });

  it('non-finite number: a string in tau', () => {
    expectFormatError({ ...valid(), tau: [0.05, '1e9999'] }, 'tau[1]', 'invalid network: `tau[1]` is "1e9999", expected a finite number');
  });

  it('m0 > d', () => {
    const json = valid();
    json.inputDim = 2;
    json.A = [
      [1, 0],
      [0, 1],
      [1, 1],
    ];
    expectFormatError(json, 'A', 'invalid network: `A` has 3 rows (m0 = 3) but inputDim = 2: m0 > d is not allowed');
  });

  it('m1 > m0', () => {
    const json = valid();
    json.B = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [1, 1, 1],
    ];
    json.tau = [0, 0, 0, 0];
    expectFormatError(json, 'B', 'invalid network: `B` has 4 rows (m1 = 4) but A has 3 rows (m0 = 3): m1 > m0 is not allowed');
  });
});

describe('readNetworkFile', () => {
  it('reads a valid file', () => {
    const file = join(dir, 'd4-m3-m2-tanh-sigmoid.json');
    writeFileSync(file, JSON.stringify(valid()));
    expect(serializeNetwork(readNetworkFile(file))).toEqual(valid());
  });

  it('an unreadable file is E_FILE_READ naming the file', () => {
    const file = join(dir, 'missing.json');
    const err = (() => {
      try {
        readNetworkFile(file);
      } catch (e) {
        return e as NnidError;
      }
    })();
    expect(err).toBeInstanceOf(NnidError);
    expect(err!.code).toBe('E_FILE_READ');
    expect(err!.message).toBe(`cannot read ${file}: no such file`);
  });

  it('a directory is E_FILE_READ too', () => {
    expect(() => readNetworkFile(dir)).toThrow(expect.objectContaining({ code: 'E_FILE_READ', message: expect.stringMatching(new RegExp(`^cannot read ${dir}: `)) }));
  });

  it('bad JSON is E_FILE_READ: not valid JSON', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ "format": "nnid.network/v1", ');
    expect(() => readNetworkFile(file)).toThrow(
      expect.objectContaining({ code: 'E_FILE_READ', message: expect.stringMatching(new RegExp(`^cannot read ${file.replace(/[.]/g, '\\.')}: not valid JSON \\(.+\\)$`)) }),
    );
  });

  it('a file with a format error is E_NETWORK_FORMAT', () => {
    const file = join(dir, 'wrong.json');
    writeFileSync(file, JSON.stringify({ ...valid(), format: 'other' }));
    expect(() => readNetworkFile(file)).toThrow(expect.objectContaining({ code: 'E_NETWORK_FORMAT', message: 'invalid network: `format` is "other", expected "nnid.network/v1"' }));
  });
});
