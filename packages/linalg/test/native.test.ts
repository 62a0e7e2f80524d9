/**
 * The same contract as typescript.test.ts on the OpenBLAS/LAPACKE tier. Skipped, with a visible
 * message, when the addon is not built (CI installs the libraries, so it runs there).
 */
import { describe, it } from 'vitest';
import { nativeAvailable, useTier } from '../src/index.ts';
import { contract } from './contract.ts';

if (nativeAvailable()) {
  useTier('native');
  describe('native tier', () => {
    contract();
  });
} else {
  console.warn(
    'linalg: the native tier is not built: native tests SKIPPED (apt-get install libopenblas-dev liblapacke-dev, then tools/setup.sh).',
  );
  describe.skip('native tier (not built: install libopenblas-dev liblapacke-dev and rerun tools/setup.sh)', () => {
    it('runs the contract', () => {});
  });
}
