/**
 * Sampling-design experiments: identify() with option variants on random networks, one line per
 * run and a summary per variant (exact share after refinement, min |cos| before refinement,
 * queries / P, seconds, attempts). Never fails on a figure.
 *
 *   npx tsx packages/pipeline/bench/design.ts --sizes 10,10,3 --act tanh --shift 0.3 --seeds 1-3 \
 *     --variant 'base={}' --variant 'fwd={"gradientScheme":"forward"}' [--no-refine] [--threads 1]
 */
import { parseArgs } from 'node:util';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, score, type IdentifyOptions } from '@nnid/pipeline';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,10,3' },
    act: { type: 'string', default: 'tanh' },
    shift: { type: 'string', default: '0.3' },
    seeds: { type: 'string', default: '1-3' },
    variant: { type: 'string', multiple: true, default: ['base={}'] },
    'no-refine': { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
  },
});
const seeds = values.seeds.split(',').flatMap((s) => {
  const [a, b] = s.split('-').map(Number);
  return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
});
const sizes = values.sizes.split(';').map((s) => s.split(',').map(Number) as [number, number, number]);
const acts = values.act.split(',');
const shifts = values.shift.split(',').map(Number);
const variants = values.variant.map((v) => {
  const at = v.indexOf('=');
  return { name: v.slice(0, at), opts: JSON.parse(v.slice(at + 1)) as Partial<IdentifyOptions> };
});
const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : NaN;
};
for (const [d, m0, m1] of sizes) {
  for (const act of acts) {
    for (const shiftStd of shifts) {
      for (const v of variants) {
        const rows: { exact: boolean; aMin: number; vMin: number; aMed: number; vMed: number; qP: number; s: number; att: number; it: number }[] = [];
        for (const seed of seeds) {
          const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: act as 'tanh', shiftStd, seed });
          const oracle = createOracle(networkBlackBox(truth));
          const t0 = performance.now();
          let res;
          try {
            res = await identify(oracle, {
              width1: m0,
              width2: m1,
              activation: { layer1: act as 'tanh', layer2: act as 'tanh' },
              seed,
              threads: Number(values.threads),
              refine: !values['no-refine'],
              ...v.opts,
            } as IdentifyOptions);
          } catch (e) {
            console.log(`${v.name} (${d},${m0},${m1}) ${act} s${shiftStd} seed ${seed}: FAILED ${(e as Error).message}`);
            continue;
          }
          const s = (performance.now() - t0) / 1000;
          const b = score(truth, res.networkBeforeRefinement, { points: 2000 });
          const a = score(truth, res.network, { points: 2000 });
          const exact =
            a.firstLayer.minCos >= 1 - 1e-9 && a.entangled.minCos >= 1 - 1e-9 && a.function.sphere.relativeL2 <= 1e-8 && a.function.gaussian.relativeL2 <= 1e-8;
          const rep = res.report;
          const its = rep.attempts.map((x) => (x.refine as { iterations?: number } | null)?.iterations ?? 0).reduce((p, q) => p + q, 0);
          rows.push({ exact, aMin: b.firstLayer.minCos, vMin: b.entangled.minCos, aMed: b.firstLayer.medianCos, vMed: b.entangled.medianCos, qP: rep.queries.multipleOfP, s, att: rep.attempts.length, it: its });
          const qs = rep.queries;
          console.log(
            `${v.name} (${d},${m0},${m1}) ${act} s${shiftStd} seed ${seed}: ${values['no-refine'] ? '' : exact ? 'EXACT' : `not exact L2=${a.function.gaussian.relativeL2.toExponential(1)}`} ` +
              `before a ${b.firstLayer.medianCos.toFixed(4)}/${b.firstLayer.minCos.toFixed(4)} v ${b.entangled.medianCos.toFixed(4)}/${b.entangled.minCos.toFixed(4)} ` +
              `q/P ${qs.multipleOfP.toFixed(1)} (g ${(qs.gradients / rep.parameterCount).toFixed(1)} h ${(qs.hessians / rep.parameterCount).toFixed(1)} s ${(qs.shifts / rep.parameterCount).toFixed(1)} r ${(qs.refine / rep.parameterCount).toFixed(1)}) ` +
              `${s.toFixed(1)} s, attempts ${rep.attempts.length}, LM its ${its}`,
          );
        }
        const n = rows.length;
        console.log(
          `== ${v.name} (${d},${m0},${m1}) ${act} shift ${shiftStd}: exact ${rows.filter((r) => r.exact).length}/${n}; before: a med ${med(rows.map((r) => r.aMed)).toFixed(4)} min ${Math.min(...rows.map((r) => r.aMin)).toFixed(4)}, ` +
            `v med ${med(rows.map((r) => r.vMed)).toFixed(4)} min ${Math.min(...rows.map((r) => r.vMin)).toFixed(4)}; q/P med ${med(rows.map((r) => r.qP)).toFixed(1)} max ${Math.max(...rows.map((r) => r.qP)).toFixed(1)}; ` +
            `s med ${med(rows.map((r) => r.s)).toFixed(1)} max ${Math.max(...rows.map((r) => r.s)).toFixed(1)}; attempts ${rows.map((r) => r.att).join(' ')}; LM its ${rows.map((r) => r.it).join(' ')}`,
        );
      }
    }
  }
}
