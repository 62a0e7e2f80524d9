/**
 * The bit-identity guard of the redesign (issue 12): identify on a few fixed networks, reduced to
 * a fingerprint (SHA-256 of the recovered network's JSON, which prints every double exactly; the
 * attempts with their residuals; the queries per stage). Fingerprints were recorded BEFORE the
 * code moved (`npx tsx packages/pipeline/test/fingerprints/record.ts`, once per linear-algebra
 * tier) and `fingerprints.test.ts` compares a fresh run against the tier's file. Seconds are left
 * out: only they may differ.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { tier } from '@nnid/linalg';
import { serializeNetwork, type ActivationName } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify } from '@nnid/pipeline';

export interface FingerprintCase {
  name: string;
  net: { inputDim: number; width1: number; width2: number; activation: ActivationName | { layer1: ActivationName; layer2: ActivationName }; shiftStd?: number; seed: number };
  noise?: number;
  widthsGiven: boolean;
  seed: number;
}

export const CASES: FingerprintCase[] = [
  { name: 'd20-m10-m3-tanh-seed1', net: { inputDim: 20, width1: 10, width2: 3, activation: 'tanh', seed: 1 }, widthsGiven: true, seed: 1 },
  { name: 'd20-m10-m3-sigmoid-seed2', net: { inputDim: 20, width1: 10, width2: 3, activation: 'sigmoid', seed: 2 }, widthsGiven: true, seed: 2 },
  { name: 'd20-m10-m3-tanh-shift1-seed10-retries', net: { inputDim: 20, width1: 10, width2: 3, activation: 'tanh', shiftStd: 1, seed: 10 }, widthsGiven: true, seed: 10 },
  { name: 'd20-m10-m3-tanh-seed1-widths-inferred', net: { inputDim: 20, width1: 10, width2: 3, activation: 'tanh', seed: 1 }, widthsGiven: false, seed: 1 },
  { name: 'd10-m10-m3-sigmoid-seed1-m1-grows', net: { inputDim: 10, width1: 10, width2: 3, activation: 'sigmoid', shiftStd: 0.3, seed: 1 }, widthsGiven: false, seed: 1 },
  { name: 'd20-m10-m3-tanh-noise1e-6', net: { inputDim: 20, width1: 10, width2: 3, activation: 'tanh', shiftStd: 0.3, seed: 1 }, noise: 1e-6, widthsGiven: true, seed: 1 },
  { name: 'd4-m1-m1-tanh-seed3', net: { inputDim: 4, width1: 1, width2: 1, activation: 'tanh', seed: 3 }, widthsGiven: true, seed: 3 },
  { name: 'd16-m8-m4-tanh-sigmoid-seed4', net: { inputDim: 16, width1: 8, width2: 4, activation: { layer1: 'tanh', layer2: 'sigmoid' }, seed: 4 }, widthsGiven: true, seed: 4 },
];

export interface Fingerprint {
  network: string;
  networkBeforeRefinement: string;
  attempts: { width2: number; reason: unknown; refinedResidual: unknown; network: string }[];
  queries: unknown;
  checkPassed: unknown;
  widths: unknown;
}

const sha = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex');

export async function fingerprint(c: FingerprintCase, threads: number): Promise<Fingerprint> {
  const truth = randomNetwork(c.net);
  const oracle = createOracle(networkBlackBox(truth, c.noise ? { noise: c.noise, noiseSeed: 1 } : {}));
  const act = typeof c.net.activation === 'string' ? { layer1: c.net.activation, layer2: c.net.activation } : c.net.activation;
  const widths = c.widthsGiven ? { width1: c.net.width1, width2: c.net.width2 } : {};
  const { network, networkBeforeRefinement, report } = await identify(oracle, { ...widths, activation: act, seed: c.seed, threads });
  return {
    network: sha(serializeNetwork(network)),
    networkBeforeRefinement: sha(serializeNetwork(networkBeforeRefinement)),
    attempts: report.attempts.map((a) => ({ width2: a.width2, reason: a.reason, refinedResidual: a.refinedResidual, network: sha(a.networkAfterRefinement) })),
    queries: report.queries,
    checkPassed: report.check.passed,
    widths: report.widths,
  };
}

/**
 * What the bits depend on besides the code: the tier and, on the native tier, the processor (OpenBLAS
 * picks its kernels by CPU) and the OpenBLAS build. The TypeScript tier's bits are the same on
 * every x86-64 machine.
 */
export function machineKey(): string {
  if (tier() === 'typescript') return 'typescript';
  let openblas = 'unknown';
  try {
    const status = readFileSync('/var/lib/dpkg/status', 'utf8');
    const m = /Package: libopenblas0-pthread\nStatus: [^\n]*\n(?:[^\n]+\n)*?Version: ([^\n]+)/.exec(status);
    if (m) openblas = m[1];
  } catch {
    // not Debian: the CPU alone keys the file
  }
  return `native; cpu ${cpus()[0]?.model ?? 'unknown'}; openblas ${openblas}`;
}
