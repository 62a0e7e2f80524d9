/**
 * range(A)'s dimension on float32 models (issue 13, item 7): m0 as identify infers it (the noise
 * estimate, the noise-aware forward gradients, and with `noisyRangeCentral` their completion to
 * central differences), against the true m0, on generator networks exported to float32 ONNX by
 * nnid's exporter and on the held-out real exports (tools/fixtures/make_heldout.py). Runs identify
 * (or identifyOutputs for k > 1) until its second plan, the one after range(A), and reads m0 there:
 * no Hessian is paid. The activations are the truth's (the range stage does not depend on them but
 * for the step's scale).
 *
 *   npx tsx tools/bench/range-float32.ts [--seeds 1,2,3] [--sizes 4,4,3/6,4,2/...] [--heldout DIR] [--out FILE]
 *   npx tsx tools/bench/range-float32.ts --spectra MODEL.onnx --truth TRUTH.json [--points 17] [--steps forward:1.5e-3,central:6e-3]
 *
 * --spectra: the singular values of gradient stacks of the model's projected output (a random unit
 * combination of its k outputs) at --points points of the unit sphere, by forward or central
 * differences at each step, beside the truth's exact ones (central, h = 1e-4, in float64).
 *
 * Prints per group: m0 right / too low / too high, forward alone and completed to central, and the
 * gradients' rows each paid.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { matrixFrom, readNetworkAny, rng, toDense, type ActivationName, type GeneralNetwork } from '@nnid/core';
import { svd } from '@nnid/linalg';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { onnxBlackBox, onnxGeneralModelBytes } from '@nnid/black-box';
import { identifyOutputs } from '@nnid/pipeline';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3' },
    sizes: { type: 'string', default: '4,4,3/4,3,2/4,2,2/5,5,3/5,3,2/6,6,3/6,4,2/8,8,4/8,5,3/3,3,2/10,5,2/13,6,3/16,8,4/20,10,5' },
    activations: { type: 'string', default: 'tanh,sigmoid,softplus,gelu,silu' },
    outputs: { type: 'string', default: '1,3' },
    heldout: { type: 'string' },
    spectra: { type: 'string' },
    truth: { type: 'string' },
    points: { type: 'string', default: '17' },
    steps: { type: 'string', default: 'forward:1.5e-3,forward:3e-3,central:3e-3,central:6e-3,central:1e-2' },
    out: { type: 'string' },
  },
});

interface Row { name: string; truth: number; d: number; forward: number; central: number; rowsForward: number; rowsCentral: number }

/** m0 and the gradients' rows as identify's plan after range(A) gives them. */
async function inferredWidth(path: string, activation: { layer1: ActivationName; layer2: ActivationName }, central: boolean): Promise<{ m0: number; rows: number }> {
  const box = await onnxBlackBox(path, { outputs: 'many' });
  const source = { inputDim: box.inputDim, outputs: box.outputs, identity: box.identity, evaluate: (x: Parameters<typeof box.evaluateOutputs>[0]) => box.evaluateOutputs(x) };
  let plans = 0;
  let found: { m0: number; rows: number } | null = null;
  try {
    await identifyOutputs(source, {
      activation,
      seed: 1,
      threads: 1,
      noisyRangeCentral: central,
      onProgress: (e) => {
        if (e.event === 'plan' && ++plans === 2) {
          found = { m0: e.plan!.widths.width1, rows: e.plan!.queries.gradients };
          throw new Error('stop');
        }
      },
    });
  } catch (e) {
    if ((e as Error).message !== 'stop') throw e;
  } finally {
    await box.close();
  }
  if (!found) throw new Error(`${path}: no plan after range(A)`);
  return found;
}

if (values.spectra) {
  await spectra(values.spectra, values.truth!, Number(values.points));
  process.exit(0);
}

/** --spectra: the gradients' singular values, forward and central at each step, and the truth's. */
async function spectra(model: string, truthFile: string, n: number): Promise<void> {
  const truth = readNetworkAny(truthFile).network as GeneralNetwork;
  const d = truth.inputDim;
  const k = truth.outputs;
  const box = await onnxBlackBox(model, { outputs: 'many' });
  const r = rng(7);
  const X = new Float64Array(n * d);
  r.fillNormal(X);
  for (let i = 0; i < n; i++) {
    const norm = Math.hypot(...X.subarray(i * d, (i + 1) * d));
    for (let j = 0; j < d; j++) X[i * d + j] /= norm;
  }
  const w = new Float64Array(k);
  r.fillNormal(w);
  const answer = async (P: Float64Array, rows: number, exact: boolean) => {
    const Y = exact ? toDense(evaluateGeneral(truth, matrixFrom(P, rows, d))).data : await box.evaluateOutputs(matrixFrom(P, rows, d));
    const out = new Float64Array(rows);
    for (let i = 0; i < rows; i++) for (let c = 0; c < k; c++) out[i] += w[c] * Y[i * k + c];
    return out;
  };
  const stack = async (scheme: string, h: number, exact: boolean) => {
    const P = new Float64Array(2 * n * d * d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        for (let side = 0; side < 2; side++) {
          const row = (i * d + j) * 2 + side;
          P.set(X.subarray(i * d, (i + 1) * d), row * d);
          P[row * d + j] += side === 0 ? h : -h;
        }
      }
    }
    const f = await answer(P, 2 * n * d, exact);
    const f0 = await answer(X, n, exact);
    const G = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) G[i * d + j] = scheme === 'forward' ? (f[(i * d + j) * 2] - f0[i]) / h : (f[(i * d + j) * 2] - f[(i * d + j) * 2 + 1]) / (2 * h);
    }
    return Array.from(svd(matrixFrom(G, n, d)).values, (v) => v.toExponential(2)).join(' ');
  };
  console.log(`exact, central 1e-4: ${await stack('central', 1e-4, true)}`);
  for (const spec of values.steps!.split(',')) {
    const [scheme, h] = spec.split(':');
    console.log(`float32 model, ${scheme} ${h}: ${await stack(scheme, Number(h), false)}`);
  }
  await box.close();
}

const rows: Row[] = [];
const dir = mkdtempSync(join(tmpdir(), 'nnid-range32-'));
async function one(name: string, path: string, truth: number, d: number, activation: { layer1: ActivationName; layer2: ActivationName }) {
  const f = await inferredWidth(path, activation, false);
  const c = await inferredWidth(path, activation, true);
  const row = { name, truth, d, forward: f.m0, central: c.m0, rowsForward: f.rows, rowsCentral: c.rows };
  rows.push(row);
  if (values.out) appendFileSync(values.out, JSON.stringify(row) + '\n');
  if (f.m0 !== truth || c.m0 !== truth) console.log(`${name}: m0 ${truth}, forward ${f.m0}, central ${c.m0}`);
}
try {
  if (values.heldout) {
    const index = JSON.parse(readFileSync(join(values.heldout, 'index.json'), 'utf8')) as { name: string; widths: [number, number]; inputDim: number }[];
    for (const m of index) {
      const truth = readNetworkAny(join(values.heldout, `${m.name}.truth.json`)).network as GeneralNetwork;
      await one(`heldout ${m.name}`, join(values.heldout, `${m.name}-float32.onnx`), m.widths[0], truth.inputDim, truth.activation);
    }
  } else {
    for (const seed of values.seeds!.split(',').map(Number)) {
      for (const size of values.sizes!.split('/')) {
        const [d, m0, m1] = size.split(',').map(Number);
        for (const act of values.activations!.split(',') as ActivationName[]) {
          for (const k of values.outputs!.split(',').map(Number)) {
            const net = randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, outputs: k, activation: act, seed });
            const path = join(dir, 'net.onnx');
            writeFileSync(path, onnxGeneralModelBytes(net, { float32: true }));
            await one(`(${d},${m0},${m1}) ${act} k=${k} seed ${seed}`, path, m0, d, net.activation);
          }
        }
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const groups = new Map<string, Row[]>();
for (const r of rows) {
  const key = values.heldout ? 'held-out exports' : r.d >= 10 ? 'd >= 10' : 'd <= 8';
  groups.set(key, [...(groups.get(key) ?? []), r]);
}
console.log('| networks | n | m0 right: forward / central | too low: forward / central | too high: forward / central | gradient rows: forward / central (mean) |');
console.log('|---|---|---|---|---|---|');
for (const [key, g] of groups) {
  const c = (f: (r: Row) => boolean) => g.filter(f).length;
  const mean = (f: (r: Row) => number) => (g.reduce((s, r) => s + f(r), 0) / g.length).toFixed(0);
  console.log(`| ${key} | ${g.length} | ${c((r) => r.forward === r.truth)} / ${c((r) => r.central === r.truth)} | ${c((r) => r.forward < r.truth)} / ${c((r) => r.central < r.truth)} | ${c((r) => r.forward > r.truth)} / ${c((r) => r.central > r.truth)} | ${mean((r) => r.rowsForward)} / ${mean((r) => r.rowsCentral)} |`);
}
