/**
 * Records the fingerprints of cases.ts on the current linear-algebra tier into <tier>.json.
 *   npx tsx packages/pipeline/test/fingerprints/record.ts            (native tier if built)
 *   NNID_LINALG=typescript npx tsx packages/pipeline/test/fingerprints/record.ts
 */
import { writeFileSync } from 'node:fs';
import { tier } from '@nnid/linalg';
import { CASES, fingerprint, machineKey } from './cases.ts';

const out: Record<string, unknown> = { machine: machineKey() };
for (const c of CASES) {
  const t0 = Date.now();
  out[c.name] = await fingerprint(c, 2);
  console.log(`${c.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
const file = new URL(`./${tier()}.json`, import.meta.url);
writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
console.log(`wrote ${file.pathname}`);
