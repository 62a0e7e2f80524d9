/**
 * Benchmark (issue 14's time table, session 13): where the second layer's start goes wrong before
 * the refinement. identify without refinement (widths given, its defaults: the first attempt, W-hat of
 * dimension 1.5 (m0 + m1)), then against the truth, after each step: the |cos| of the true v_l with the
 * best of the first rank-one search's candidates (any role) and of the candidates attributed to the
 * entangled set; where the entangled stage's v_l came from (a rank-one search: 'deflated',
 * 'first-search'; a fallback: 'gradient-at-zero', 'random', ...); the assembled network's A and v_l
 * (after the shift fit); and the fit of (theta, B, tau) with A fixed on 4 P fresh points (half
 * sphere, half Gaussian) three ways: as identify runs it (100 iterations, its plateau and cost
 * rules), run on (400 iterations, cost tolerance 1e-12), and from the TRUE second layer (theta, B,
 * tau, with the pipeline's rows of A matched to the truth's) - the floor the pipeline's A leaves.
 * With --full, the full fit (identify's: 300 iterations, FULL_FIT_PLATEAU) from each of the three. With --true-noise e > 0
 * the true second layer's rows b_l get e |b_l| times a random unit vector added (|cos| ~ 1 / sqrt(1 + e^2) to the truth)
 * before that fit: how close a second-layer estimate must be to help.
 *
 *   npx tsx tools/bench/second-layer-start.ts --net 30,20,8 --act sigmoid,sigmoid --shift 1 --seeds 1,2,3 [--perturb 0] [--full] [--true-noise 0]
 *
 * One JSON line per network (and per full fit). Never fails on a figure.
 */
import { parseArgs } from 'node:util';
import { entangledWeights, matrix, rng, type ActivationName, type Float64View, type Network } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, matchWeights } from '@nnid/pipeline';
import { fitNetwork, FULL_FIT_PLATEAU, UPPER_FIT_PLATEAU } from '@nnid/refine';
import { fourPData } from './second-layer-data.ts';

const { values } = parseArgs({
  options: {
    net: { type: 'string', default: '30,20,8' },
    act: { type: 'string', default: 'sigmoid,sigmoid' },
    shift: { type: 'string', default: '1' },
    perturb: { type: 'string', default: '0' },
    seeds: { type: 'string', default: '1' },
    full: { type: 'boolean', default: false },
    'true-noise': { type: 'string', default: '0' },
  },
});
const [d, m0, m1] = values.net.split(',').map(Number);
const [layer1, layer2] = values.act.split(',') as [ActivationName, ActivationName];
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const f3 = (x: number) => +x.toFixed(3);
/** Lowest and median |cos|, and how many below 0.999. */
const stat = (c: number[]) => {
  const s = [...c].sort((a, b) => a - b);
  return { min: f3(s[0]), med: f3(s[Math.floor(s.length / 2)]), below999: s.filter((x) => x < 0.999).length };
};
const rows = (M: Float64View) => Array.from({ length: M.shape[0] }, (_, i) => Array.from({ length: M.shape[1] }, (_, j) => M.data[M.offset + i * M.strides[0] + j * M.strides[1]]));
const cosine = (a: number[], b: number[]) => a.reduce((s, x, j) => s + x * b[j], 0) / (Math.hypot(...a) * Math.hypot(...b));
/** For each true row, the best |cos| among `candidates` (no matching: a candidate may serve two). */
const bestOf = (truth: Float64View, candidates: number[][]) => rows(truth).map((t) => candidates.reduce((m, c) => Math.max(m, Math.abs(cosine(t, c))), 0));
const vOf = (truth: Network, net: Network) => stat(matchWeights(entangledWeights(truth), entangledWeights(net)).cosines);
const aOf = (truth: Network, net: Network) => stat(matchWeights(truth.A, net.A).cosines);
/** The truth with its rows of A replaced by the pipeline's best-matching rows (the truth's sign and norm). */
function trueSecondLayerOn(truth: Network, net: Network): Network {
  const T = rows(truth.A);
  const R = rows(net.A);
  const A = matrix(m0, d);
  T.forEach((t, i) => {
    const c = R.map((r) => cosine(t, r));
    const j = c.reduce((b, x, k) => (Math.abs(x) > Math.abs(c[b]) ? k : b), 0);
    const scale = (Math.sign(c[j]) * Math.hypot(...t)) / Math.hypot(...R[j]);
    for (let k = 0; k < d; k++) A.data[i * d + k] = scale * R[j][k];
  });
  const noise = Number(values['true-noise']);
  if (!(noise > 0)) return { ...truth, A };
  const B = matrix(m1, m0);
  rows(truth.B).forEach((b, l) => {
    const u = rng(77).split(l).fillSphere(new Float64Array(m0), 1);
    const size = noise * Math.hypot(...b);
    for (let i = 0; i < m0; i++) B.data[l * m0 + i] = b[i] + size * u[i];
  });
  return { ...truth, A, B };
}

for (const seed of values.seeds.split(',').map(Number)) {
  const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: { layer1, layer2 }, shiftStd: Number(values.shift), orthogonalityPerturbation: Number(values.perturb), seed });
  const oracle = createOracle(networkBlackBox(truth));
  const c0 = cpu();
  const { report, network } = await identify(oracle, { width1: m0, width2: m1, activation: { layer1, layer2 }, seed, threads: 2, refine: false });
  const a = report.attempts[0];
  const trueV = entangledWeights(truth);
  const entangledRole = a.candidates.filter((c) => c.role === 'entangled').map((c) => c.vector);
  const sources = Object.fromEntries([...new Set(a.entangled.sources)].map((k) => [k, a.entangled.sources.filter((x) => x === k).length]));
  const out: Record<string, unknown> = {
    net: values.net,
    act: values.act,
    seed,
    subspaceDimension: a.subspaceDimension,
    pipelineCpu: f3(cpu() - c0),
    candidates: a.candidates.length,
    roles: Object.fromEntries(['first-layer', 'entangled', 'skipped', 'unused'].map((r) => [r, a.candidates.filter((c) => c.role === r).length])),
    firstSearchAnyRole: stat(bestOf(trueV, a.candidates.map((c) => c.vector))),
    firstSearchEntangled: entangledRole.length ? stat(bestOf(trueV, entangledRole)) : null,
    deflatedSearch: a.entangled.deflated && { dimension: a.entangled.deflated.dimension, candidates: a.entangled.deflated.candidates, spectrum: a.entangled.deflated.spectrum.slice(0, m1 + 2).map((x) => +x.toPrecision(3)) },
    entangledSources: sources,
    assembled: { A: aOf(truth, network), v: vOf(truth, network), residual: a.pipelineResidual.toExponential(2) },
  };
  const data = await fourPData(oracle, network, seed);
  const upper = async (start: Network, options: { maxIterations: number; costTolerance: number; plateau?: typeof UPPER_FIT_PLATEAU }) => {
    const t = cpu();
    const r = await fitNetwork(start, data, { fix: 'first-layer-weights', innerSteps: 0, ...options });
    return { network: r.network, row: { iterations: r.report.iterations, residual: r.report.relativeResidual.toExponential(2), stop: r.report.stopReason, v: vOf(truth, r.network), cpu: f3(cpu() - t) } };
  };
  const fits = {
    asIdentify: await upper(network, { maxIterations: 100, costTolerance: 1e-4, plateau: UPPER_FIT_PLATEAU }),
    runOn: await upper(network, { maxIterations: 400, costTolerance: 1e-12 }),
    fromTrueSecondLayer: await upper(trueSecondLayerOn(truth, network), { maxIterations: 400, costTolerance: 1e-12 }),
  };
  for (const [name, f] of Object.entries(fits)) out[`upper.${name}`] = f.row;
  console.log(JSON.stringify(out));
  if (!values.full) continue;
  for (const [name, f] of Object.entries(fits)) {
    const t = cpu();
    const r = await fitNetwork(f.network, data, { threads: 2, maxIterations: 300, plateau: FULL_FIT_PLATEAU });
    console.log(JSON.stringify({ seed, fullFitFrom: name, njev: r.report.njev, residual: r.report.relativeResidual.toExponential(2), stop: r.report.stopReason, A: aOf(truth, r.network), v: vOf(truth, r.network), cpu: f3(cpu() - t) }));
  }
}
