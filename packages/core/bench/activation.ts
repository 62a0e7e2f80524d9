/**
 * The activation definitions' fused path (valuesSlopes, through the shared forwardRow) against
 * today's inline Math.tanh / logistic, in the hot loop of the refinement's residuals and Jacobian
 * (one row: m0 first-layer units with slopes, m1 second-layer sums with slopes), and in the
 * value-only loop of the black box's evaluation.
 *
 * Run: npx tsx packages/core/bench/activation.ts
 */
import { activation, logistic, type Activation } from '../src/activation.ts';
import { forwardRow, forwardRowScratch, type UpperLayers } from '../src/forward.ts';

const N = 4000;
const m0 = 20;
const m1 = 8;
const U = new Float64Array(N * m0);
for (let k = 0; k < U.length; k++) U[k] = Math.sin(k * 0.7) * 2;
const B = new Float64Array(m1 * m0);
for (let k = 0; k < B.length; k++) B[k] = Math.cos(k * 1.3) * 0.5;
const theta = new Float64Array(m0).fill(0.1);
const tau = new Float64Array(m1).fill(-0.2);
const g = new Float64Array(m0);
const g1 = new Float64Array(m0);
const h1 = new Float64Array(m1);

// before the move (refine/src/params.ts): a boolean per layer, Math.tanh or logistic inline
function inlineRows(tanh1: boolean, tanh2: boolean): number {
  let sum = 0;
  for (let r = 0; r < N; r++) {
    for (let i = 0; i < m0; i++) {
      const u = U[r * m0 + i] + theta[i];
      if (tanh1) {
        const t = Math.tanh(u);
        g[i] = t;
        g1[i] = 1 - t * t;
      } else {
        const s = logistic(u);
        g[i] = s;
        g1[i] = s * (1 - s);
      }
    }
    let f = 0;
    for (let l = 0; l < m1; l++) {
      let z = tau[l];
      for (let i = 0; i < m0; i++) z += B[l * m0 + i] * g[i];
      if (tanh2) {
        const t = Math.tanh(z);
        f += t;
        h1[l] = 1 - t * t;
      } else {
        const s = logistic(z);
        f += s;
        h1[l] = s * (1 - s);
      }
    }
    sum += f;
  }
  return sum;
}

// a per-unit fused call: the call site sees every definition, so V8 does not inline it (tried, dropped)
type ValueSlope = (t: number, slope: Float64Array, at: number) => number;
const tanhValueSlope: ValueSlope = (t, slope, at) => {
  const y = Math.tanh(t);
  slope[at] = 1 - y * y;
  return y;
};
const sigmoidValueSlope: ValueSlope = (t, slope, at) => {
  const s = logistic(t);
  slope[at] = s * (1 - s);
  return s;
};
function perUnitRows(phi1: ValueSlope, phi2: ValueSlope): number {
  let sum = 0;
  for (let r = 0; r < N; r++) {
    for (let i = 0; i < m0; i++) g[i] = phi1(U[r * m0 + i] + theta[i], g1, i);
    let f = 0;
    for (let l = 0; l < m1; l++) {
      let z = tau[l];
      for (let i = 0; i < m0; i++) z += B[l * m0 + i] * g[i];
      f += phi2(z, h1, l);
    }
    sum += f;
  }
  return sum;
}

// the definitions' separate value and d1 per unit (what shift-recovery's model called)
function separateRows(phi1: Activation, phi2: Activation): number {
  let sum = 0;
  for (let r = 0; r < N; r++) {
    for (let i = 0; i < m0; i++) {
      const u = U[r * m0 + i] + theta[i];
      g[i] = phi1.value(u);
      g1[i] = phi1.d1(u);
    }
    let f = 0;
    for (let l = 0; l < m1; l++) {
      let z = tau[l];
      for (let i = 0; i < m0; i++) z += B[l * m0 + i] * g[i];
      f += phi2.value(z);
      h1[l] = phi2.d1(z);
    }
    sum += f;
  }
  return sum;
}

// value only, before the move (oracle/src/evaluate.ts): a plain function (Math.tanh itself)
function valueRows(phi1: (t: number) => number, phi2: (t: number) => number): number {
  let sum = 0;
  for (let r = 0; r < N; r++) {
    for (let i = 0; i < m0; i++) g[i] = phi1(U[r * m0 + i] + theta[i]);
    let f = 0;
    for (let l = 0; l < m1; l++) {
      let z = 0;
      for (let i = 0; i < m0; i++) z += B[l * m0 + i] * g[i];
      f += phi2(z + tau[l]);
    }
    sum += f;
  }
  return sum;
}

// the shared forward pass: forwardRow over the definitions' valuesSlopes (one call per layer and row)
const row = forwardRowScratch(m0, m1);
function sharedRows(phi1: Activation, phi2: Activation, slopes: boolean, tauFirst: boolean): number {
  const net: UpperLayers = { phi1, phi2, width1: m0, width2: m1, theta, thetaAt: 0, B, bAt: 0, tau, tauAt: 0, tauFirst };
  let sum = 0;
  for (let r = 0; r < N; r++) sum += forwardRow(net, U, r * m0, row, slopes);
  return sum;
}

const tanh = activation('tanh');
const sigmoid = activation('sigmoid');
const cases: [string, boolean, boolean][] = [
  ['tanh/tanh', true, true],
  ['sigmoid/sigmoid', false, false],
  ['tanh/sigmoid', true, false],
];
const defOf = (t: boolean): Activation => (t ? tanh : sigmoid);
const fnOf = (t: boolean): ((x: number) => number) => (t ? Math.tanh : logistic);
const vsOf = (t: boolean): ValueSlope => (t ? tanhValueSlope : sigmoidValueSlope);

const BASE = 'inline (before the move)';
const VBASE = 'value only: plain function (before the move)';
const variants: [string, string, (a: boolean, b: boolean) => number][] = [
  [BASE, BASE, (a, b) => inlineRows(a, b)],
  ['forwardRow: valuesSlopes per layer', BASE, (a, b) => sharedRows(defOf(a), defOf(b), true, true)],
  ['per-unit fused call (dropped)', BASE, (a, b) => perUnitRows(vsOf(a), vsOf(b))],
  ['value + d1 per unit', BASE, (a, b) => separateRows(defOf(a), defOf(b))],
  [VBASE, VBASE, (a, b) => valueRows(fnOf(a), fnOf(b))],
  ['value only: forwardRow, no slopes', VBASE, (a, b) => sharedRows(defOf(a), defOf(b), false, false)],
];

// every call site sees every activation before timing (as in a process that meets both)
let sink = 0;
for (let w = 0; w < 30; w++) for (const [, a, b] of cases) for (const [, , fn] of variants) sink += fn(a, b);

const REPS = 9;
const times = new Map<string, number[]>();
for (let rep = 0; rep < REPS; rep++) {
  for (const [cname, a, b] of cases) {
    for (const [vname, , fn] of variants) {
      const t0 = performance.now();
      for (let k = 0; k < 10; k++) sink += fn(a, b);
      const ms = (performance.now() - t0) / 10;
      const key = `${vname}|${cname}`;
      if (!times.has(key)) times.set(key, []);
      times.get(key)!.push(ms);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
console.log(`${N} rows of m0 = ${m0}, m1 = ${m1} per call; ms per call, median of ${REPS} rounds, variants interleaved in each round; (ratio to the row's baseline)`);
console.log('| loop | ' + cases.map((c) => c[0]).join(' | ') + ' |');
console.log('|---|' + cases.map(() => '---|').join(''));
for (const [vname, base] of variants) {
  const cells = cases.map(([cname]) => {
    const ms = median(times.get(`${vname}|${cname}`)!);
    const b = median(times.get(`${base}|${cname}`)!);
    return `${ms.toFixed(2)} (${(ms / b).toFixed(2)}x)`;
  });
  console.log(`| ${vname} | ${cells.join(' | ')} |`);
}
if (!Number.isFinite(sink)) console.log('sink', sink);

// each definition's fused path on its own: ns per unit, with and without slopes
{
  const n = 100_000;
  const t = new Float64Array(n);
  for (let k = 0; k < n; k++) t[k] = Math.sin(k * 0.37) * 4;
  const values = new Float64Array(n);
  const slopes = new Float64Array(n);
  const { ACTIVATIONS } = await import('../src/activation.ts');
  const rows: string[] = [];
  for (const name of ACTIVATIONS) {
    const phi = activation(name);
    for (let w = 0; w < 20; w++) phi.valuesSlopes(t, 0, n, values, w % 2 ? slopes : null);
    const time = (s: Float64Array | null) => {
      const ms: number[] = [];
      for (let rep = 0; rep < 9; rep++) {
        const t0 = performance.now();
        for (let k = 0; k < 5; k++) phi.valuesSlopes(t, 0, n, values, s);
        ms.push((performance.now() - t0) / 5);
      }
      return (median(ms) * 1e6) / n;
    };
    rows.push(`| ${name} | ${time(slopes).toFixed(1)} | ${time(null).toFixed(1)} |`);
    sink += values[7] + slopes[7];
  }
  console.log(`\nvaluesSlopes over ${n} points in [-4, 4], ns per unit (median of 9):`);
  console.log('| activation | values and slopes | values only |\n|---|---|---|');
  for (const r of rows) console.log(r);
}
