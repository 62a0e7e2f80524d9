/**
 * The bit-identity guard (issue 12): identify on fixed networks gives the same recovered networks,
 * attempts, residuals and queries as the fingerprints recorded before the redesign moved code, on
 * the tier this run uses. The native tier's bits depend on the processor OpenBLAS runs on: its
 * file is compared only on the machine kind it was recorded on (said when skipped).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tier } from '@nnid/linalg';
import { CASES, fingerprint, machineKey } from './fingerprints/cases.ts';

const stored = JSON.parse(readFileSync(new URL(`./fingerprints/${tier()}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const sameMachine = stored.machine === machineKey();
if (!sameMachine) console.log(`fingerprints: skipped on ${machineKey()} (recorded on ${String(stored.machine)})`);

describe.skipIf(!sameMachine)(`identify gives the recorded bits (${tier()} tier)`, () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const now = await fingerprint(c, 2);
      expect(now).toEqual(stored[c.name]);
    });
  }
});

it('one thread gives the recorded bits too (the retry case)', async () => {
  const c = CASES.find((k) => k.name.endsWith('retries'))!;
  if (!sameMachine) return;
  expect(await fingerprint(c, 1)).toEqual(stored[c.name]);
});
