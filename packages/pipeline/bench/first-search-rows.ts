/**
 * Issue 15, ninth pass: which of the first rank-one search's rows are entangled weights v_l, and what tells them
 * apart without the truth. identify's stages without the refinement (`--hess 72`: the Hessians identify takes with
 * the refinement in its plan at (100, 50, 20)), then per candidate of the first search kept as a first-layer row:
 * its best |cos| with a true a_i and a true v_l, attribution's coherence with the final first layer, the rank-one
 * certificate phi, the starts that reached it, and its norm in the top-m1 right singular subspace of the truth's
 * gradients at 0 and `--grads` sphere points (a signal measured and dropped); what completion.ts's
 * `reopenCoherence` = REOPEN_COHERENCE would take back; the start's rows of A and v_l against the truth (best |cos|
 * per row, and matched one to one).
 *
 *   npx tsx packages/pipeline/bench/first-search-rows.ts [--sizes 100,50,20] [--seed 1] [--hess 72] [--grads N] [--act tanh]
 *
 * Never fails on a figure.
 */
import { parseArgs } from 'node:util';
import { activation, entangledWeights, matrix, matrixFrom, parseNetwork, rng, type Float64View } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { topSingular } from '@nnid/linalg';
import { identify } from '../src/index.ts';
import { matchWeights } from '../src/score.ts';
import { REOPEN_COHERENCE } from '../src/completion.ts';
import { attributeCandidates } from '@nnid/attribution';
const { values: o } = parseArgs({ options: { sizes: { type: 'string', default: '100,50,20' }, seed: { type: 'string', default: '1' }, hess: { type: 'string' }, grads: { type: 'string' }, k: { type: 'string' }, act: { type: 'string', default: 'tanh' }, perturb: { type: 'string' } } });
const [d, m0, m1] = o.sizes!.split(',').map(Number);
const seed = Number(o.seed);
const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: o.act as 'tanh', seed, ...(o.perturb ? { orthogonalityPerturbation: Number(o.perturb) } : {}) });
const rowsOf = (v: Float64View) => Array.from({ length: v.shape[0] }, (_, i) => { const r = Array.from({ length: v.shape[1] }, (_, j) => v.data[v.offset + i * v.strides[0] + j * v.strides[1]]); const n = Math.hypot(...r); return r.map((x) => x / n); });
const dot = (a: number[], b: number[]) => a.reduce((s, x, k) => s + x * b[k], 0);
const A = rowsOf(truth.A), V = rowsOf(entangledWeights(truth));
const best = (u: number[], T: number[][]) => { let m = 0, a = -1; T.forEach((t, i) => { const c = Math.abs(dot(u, t)); if (c > m) { m = c; a = i; } }); return [m, a] as const; };
// truth gradients at 0 + sphere points
const nG = Number(o.grads ?? Math.ceil((0.9 * (d * m0 + m0 + m0 * m1 + m1)) / (d + 1)));
const phi1 = activation(truth.activation.layer1), phi2 = activation(truth.activation.layer2);
const G = matrix(nG, d);
const rs = rng(999);
for (let j = 0; j < nG; j++) {
  const x = new Float64Array(d);
  if (j > 0) { let n = 0; for (let t = 0; t < d; t++) { x[t] = rs.normal(); n += x[t] ** 2; } n = Math.sqrt(n); for (let t = 0; t < d; t++) x[t] /= n; }
  const h = new Float64Array(m0), dh = new Float64Array(m0);
  for (let i = 0; i < m0; i++) { let s = truth.theta[i]; for (let t = 0; t < d; t++) s += truth.A.data[i * d + t] * x[t]; h[i] = phi1.value(s); dh[i] = phi1.d1(s); }
  const w = new Float64Array(m0);
  for (let l = 0; l < m1; l++) { let z = truth.tau[l]; for (let i = 0; i < m0; i++) z += truth.B.data[l * m0 + i] * h[i]; const g = phi2.d1(z); for (let i = 0; i < m0; i++) w[i] += g * truth.B.data[l * m0 + i] * dh[i]; }
  for (let i = 0; i < m0; i++) for (let t = 0; t < d; t++) G.data[j * d + t] += w[i] * truth.A.data[i * d + t];
}
const kk = Number(o.k ?? m1);
const top = topSingular(G, kk);
const right = top.right; // d x k
const gsig = (u: number[]) => { let s = 0; for (let c = 0; c < kk; c++) { let p = 0; for (let t = 0; t < d; t++) p += u[t] * right.data[right.offset + t * right.strides[0] + c * right.strides[1]]; s += p * p; } return Math.sqrt(s); };
const opts: Record<string, unknown> = { width1: m0, width2: m1, activation: { layer1: o.act, layer2: o.act }, seed, threads: 1, refine: false };
if (o.hess) opts.hessianPoints = Number(o.hess);
const res = await identify(createOracle(networkBlackBox(truth)), opts as never);
const at = res.report.attempts[0] as any;
const cands = at.candidates as { vector: number[]; phi: number; hits: number; role: string }[];
const coh = at.attribution.coherence as number[];
const fl = at.attribution.firstLayer as number[];
console.log(`seed ${seed} (${d},${m0},${m1}): ${cands.length} candidates, first layer ${fl.length}; completion rounds ${JSON.stringify(at.completion.rounds?.map((r: any) => r.found))} filled ${at.completion.filledWithComplementBasis} reopened ${JSON.stringify(at.completion.reopenedFirstSearch)} rounds ${JSON.stringify(at.completion.rounds?.map((r: any) => [r.complementDimension, r.subspaceDimension, r.reopened, r.found]))}`);
const lines = cands.map((c, j) => { const n = Math.hypot(...c.vector); const u = c.vector.map((x) => x / n); const [ca, ia] = best(u, A); const [cv, iv] = best(u, V); return { j, role: c.role, row: fl.indexOf(j), ca, ia, cv, iv, phi: c.phi, hits: c.hits, coh: coh[j], g: gsig(u) }; });
for (const l of lines.filter((l) => l.role === "first-layer").sort((a, b) => b.coh - a.coh)) console.log(`${String(l.j).padStart(3)} ${l.role.padEnd(11)} row ${String(l.row).padStart(3)} a ${l.ca.toFixed(3)}(${l.ia}) v ${l.cv.toFixed(3)}(${l.iv}) phi ${l.phi.toFixed(5)} hits ${l.hits} coh ${l.coh.toFixed(3)} grad ${l.g.toFixed(3)} ${l.cv > l.ca ? '<== V' : ''}`);
const net = parseNetwork(at.networkBeforeRefinement ?? res.report.networkBeforeRefinement);
const rowsA = rowsOf(net.A).map((u) => best(u, A)[0]);
console.log(`A-hat rows below 0.9: ${rowsA.filter((c) => c < 0.9).length}, below 0.99: ${rowsA.filter((c) => c < 0.99).length}, min ${Math.min(...rowsA).toFixed(3)}; per row: ${rowsA.map((c) => c.toFixed(2)).join(' ')}`);
const rowsV = rowsOf(entangledWeights(net)).map((u) => best(u, V)[0]);
console.log(`V-hat below 0.9: ${rowsV.filter((c) => c < 0.9).length}, below 0.99: ${rowsV.filter((c) => c < 0.99).length}, min ${Math.min(...rowsV).toFixed(3)}`);
{
  const mf = matrixFrom;
  const rowsFL = fl.map((j) => { const c = cands[j].vector; const n = Math.hypot(...c); return c.map((x) => x / n); });
  const split = attributeCandidates(mf(Float64Array.from(rowsFL.flat()), rowsFL.length, d), { maxCoherence: REOPEN_COHERENCE });
  const dropped = rowsFL.map((_, i) => i).filter((i) => !split.report.firstLayer.includes(i));
  console.log(`rule REOPEN_COHERENCE on the first search's ${fl.length} rows would reopen rows ${JSON.stringify(dropped)}: ${dropped.map((i) => { const [ca] = best(rowsFL[i], A); const [cv] = best(rowsFL[i], V); return `a ${ca.toFixed(3)} v ${cv.toFixed(3)}`; }).join('; ')}; true-a rows (|cos a| > |cos v|) max coherence ${Math.max(...fl.map((j) => { const u = rowsFL[fl.indexOf(j)]; return best(u, A)[0] > best(u, V)[0] ? coh[j] : 0; })).toFixed(3)}`);
}
{
  const mA = matchWeights(truth.A, net.A).cosines; const mV = matchWeights(entangledWeights(truth), entangledWeights(net)).cosines;
  const bestIdx = rowsOf(net.A).map((u) => best(u, A)[1]);
  const dup = bestIdx.filter((t, i) => bestIdx.indexOf(t) !== i).length;
  console.log(`matched (one-to-one): a below 0.9 ${mA.filter((c: number) => c < 0.9).length}, below 0.99 ${mA.filter((c: number) => c < 0.99).length}, min ${Math.min(...mA).toFixed(3)}; v below 0.9 ${mV.filter((c: number) => c < 0.9).length}, min ${Math.min(...mV).toFixed(3)}; rows sharing a best true row ${dup}`);
}
console.log('entangled sources', JSON.stringify(at.entangled?.sources));
