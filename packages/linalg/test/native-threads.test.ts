import { describe, expect, it } from 'vitest';
import { nativeAvailable, setBlasThreads, tier } from '@nnid/linalg';

describe('setBlasThreads', () => {
  it.runIf(nativeAvailable() && tier() === 'native')('sets and restores OpenBLAS threads on the native tier', () => {
    const before = setBlasThreads(2);
    expect(before).toBe(1);
    expect(setBlasThreads(before)).toBe(2);
  });
  it('rejects a bad count with the argument named', () => {
    expect(() => setBlasThreads(0)).toThrow('invalid argument. `n` must be a positive integer. Value: `0`.');
  });
});
