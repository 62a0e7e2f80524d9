/**
 * The report of a sweep (`nnid sweep`'s JSON lines): the exact rate over the grid as a heat map
 * (size x family, one panel per noise level, one row per method), queries per P and seconds
 * against P on log axes with every method side by side, each plot followed by the table of its
 * numbers; crashed runs and missed targets listed after.
 */
import type { TopLevelSpec } from 'vega-lite';
import { escapeHtml, figure, note, num, page, table, type Cell } from './html.ts';
import { renderSvg } from './render.ts';

/**
 * The fields of a sweep line that the report reads (a structural subset of the pipeline's
 * ExperimentRecord and of the sweep's crash record; anything else on the line is ignored).
 */
export interface SweepRecordInput {
  id: string;
  spec: {
    inputDim: number;
    width1: number;
    width2: number;
    activation: { layer1: string; layer2: string };
    shiftStd: number;
    noise: number;
    perturb?: number;
    seed: number;
    widthsGiven?: boolean;
    identify?: { refine?: boolean; queryBudget?: number } & Record<string, unknown>;
  };
  /** The method that produced the run (a baseline writes its own name); default: nnid. */
  method?: string;
  parameterCount?: number;
  exact?: boolean;
  targetMet?: boolean;
  checkPassed?: boolean | null;
  silentFailure?: boolean;
  cause?: string | null;
  crashed?: boolean;
  error?: string | null;
  queries?: ({ total?: number } & Record<string, unknown>) | null;
  seconds?: Record<string, number> | null;
}

export interface SweepReportOptions {
  /** The page title (default "nnid sweep report"). */
  title?: string;
  /** Where the records came from, printed under the title (e.g. the file name). */
  source?: string;
}

/** One finished run, as plotted. */
interface Run {
  id: string;
  method: string;
  size: string;
  family: string;
  noise: number;
  noiseLabel: string;
  P: number;
  met: boolean;
  exact: boolean;
  checkPassed: boolean | null;
  silent: boolean;
  failed: boolean;
  queries: number;
  seconds: number;
  stageSeconds: Record<string, number>;
  cause: string | null;
}

const STAGES = ['hessians', 'rankOne', 'shifts', 'refine'] as const;

export function methodOf(r: SweepRecordInput): string {
  if (typeof r.method === 'string' && r.method) return r.method;
  return r.spec.identify?.refine === false ? 'nnid (pipeline alone)' : 'nnid';
}

function parameterCountOf(r: SweepRecordInput): number {
  if (typeof r.parameterCount === 'number') return r.parameterCount;
  const { inputDim: d, width1: m0, width2: m1 } = r.spec;
  return d * m0 + m0 + m0 * m1 + m1;
}

function familyOf(r: SweepRecordInput): string {
  const s = r.spec;
  const act = s.activation.layer1 === s.activation.layer2 ? s.activation.layer1 : `${s.activation.layer1}/${s.activation.layer2}`;
  return (
    `${act} σ=${s.shiftStd}` +
    (s.perturb ? ` perturb ${s.perturb}` : '') +
    (s.identify?.queryBudget !== undefined ? ` budget ${s.identify.queryBudget}P` : '') +
    (s.widthsGiven === false ? ' widths auto' : '')
  );
}

export function noiseLabel(noise: number): string {
  return noise === 0 ? 'noise 0' : `noise ${noise.toExponential(0).replace('e-', 'e−')}`;
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

function toRun(r: SweepRecordInput): Run {
  const s = r.spec;
  const P = parameterCountOf(r);
  const exact = r.exact === true;
  // a noisy oracle cannot give exact weights: its target is the function error within the noise
  const met = r.targetMet ?? exact;
  const failed = typeof r.error === 'string' && r.error !== '';
  return {
    id: r.id,
    method: methodOf(r),
    size: `(${s.inputDim}, ${s.width1}, ${s.width2})`,
    family: familyOf(r),
    noise: s.noise,
    noiseLabel: noiseLabel(s.noise),
    P,
    met,
    exact,
    checkPassed: r.checkPassed ?? null,
    silent: r.silentFailure === true,
    failed,
    queries: Number(r.queries?.total ?? NaN),
    seconds: Number(r.seconds?.total ?? NaN),
    stageSeconds: r.seconds ?? {},
    cause: r.cause ?? (failed ? r.error! : null),
  };
}

/** Keys in first-appearance order, sizes by P. */
function orderOf<T>(items: T[], key: (x: T) => string, rank?: (x: T) => number): string[] {
  const seen = new Map<string, number>();
  items.forEach((x, i) => {
    const k = key(x);
    if (!seen.has(k)) seen.set(k, rank ? rank(x) : i);
  });
  return [...seen.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
}

function groupBy<T>(items: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(x);
  }
  return m;
}

function rateSpec(cells: object[], sizes: string[], families: string[], noises: string[], methods: string[]): TopLevelSpec {
  const rows = methods.length > 1;
  return {
    data: { values: cells },
    facet: {
      column: { field: 'noiseLabel', type: 'nominal', sort: noises, title: null },
      ...(rows ? { row: { field: 'method', type: 'nominal', sort: methods, title: null } } : {}),
    },
    spec: {
      width: { step: 78 },
      height: { step: 28 },
      layer: [
        {
          mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
          encoding: {
            x: { field: 'size', type: 'nominal', sort: sizes, title: '(d, m0, m1)', axis: { labelAngle: 0 } },
            y: { field: 'family', type: 'nominal', sort: families, title: 'family' },
            color: {
              field: 'rate',
              type: 'quantitative',
              scale: { scheme: 'redyellowblue', domain: [0, 1] },
              title: 'exact rate',
              legend: { format: '.0%' },
            },
          },
        },
        {
          mark: { type: 'text', fontSize: 11 },
          encoding: {
            x: { field: 'size', type: 'nominal', sort: sizes },
            y: { field: 'family', type: 'nominal', sort: families },
            text: { field: 'label', type: 'nominal' },
            color: { condition: { test: 'datum.rate < 0.15 || datum.rate > 0.85', value: 'white' }, value: 'black' },
          },
        },
      ],
    },
    resolve: { scale: { x: 'shared', y: 'shared' } },
  } as TopLevelSpec;
}

function costSpec(points: object[], medians: object[], field: 'perP' | 'seconds', title: string, methods: string[]): TopLevelSpec {
  const color = { field: 'method', type: 'nominal' as const, sort: methods, title: 'method', scale: { scheme: 'category10' }, legend: { labelLimit: 300 } };
  const x = { field: 'P', type: 'quantitative' as const, scale: { type: 'log' as const, nice: false, padding: 12 }, title: 'parameters P (log)' };
  const y = {
    field,
    type: 'quantitative' as const,
    scale: { type: 'log' as const, nice: false, padding: 8 },
    title,
    axis: { labelExpr: "datum.value < 1e-3 || datum.value >= 1e4 ? format(datum.value, '.0e') : format(datum.value, '~g')" },
  };
  return {
    width: 520,
    height: 280,
    layer: [
      {
        data: { values: points },
        mark: { type: 'point', filled: true, opacity: 0.45, size: 34 },
        encoding: { x, y, color },
      },
      {
        data: { values: medians },
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: { x, y, color, detail: { field: 'method', type: 'nominal' } },
      },
    ],
  } as TopLevelSpec;
}

/**
 * The sweep report: one self-contained HTML page (inline SVG, no script, no network).
 *
 * @example
 * const html = await sweepReport(readRecords('runs.jsonl'), { source: 'runs.jsonl' });
 * writeFileSync('report.html', html);
 */
export async function sweepReport(records: readonly SweepRecordInput[], options: SweepReportOptions = {}): Promise<string> {
  const title = options.title ?? 'nnid sweep report';
  const crashes = records.filter((r) => r.crashed === true);
  const runs = records.filter((r) => r.crashed !== true).map(toRun);
  const methods = orderOf(runs, (r) => r.method);
  const sizes = orderOf(runs, (r) => r.size, (r) => r.P);
  const families = orderOf(runs, (r) => r.family);
  const noises = orderOf(runs, (r) => r.noiseLabel, (r) => r.noise);
  const sections: string[] = [];

  const met = runs.filter((r) => r.met).length;
  const head = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">${escapeHtml(options.source ? `${options.source}: ` : '')}${records.length} runs` +
      ` (${runs.length} finished, ${crashes.length} crashed); ${methods.length} method${methods.length === 1 ? '' : 's'}: ${escapeHtml(methods.join(', '))};` +
      ` ${sizes.length} size${sizes.length === 1 ? '' : 's'}, ${families.length} famil${families.length === 1 ? 'y' : 'ies'}, ${noises.length} noise level${noises.length === 1 ? '' : 's'}.` +
      ` Target met in ${met} of ${runs.length} finished runs.</p>`,
  ];

  if (!runs.length) {
    sections.push(note('rates', 'Exact rate over the grid', 'No finished run in these records: nothing to plot.'));
  } else {
    // --- heat map of the exact rate ---
    const cellGroups = groupBy(runs, (r) => JSON.stringify([r.method, r.noiseLabel, r.family, r.size]));
    const cells = [...cellGroups.values()].map((rs) => {
      const r0 = rs[0];
      const k = rs.filter((r) => r.met).length;
      return {
        method: r0.method,
        noise: r0.noise,
        noiseLabel: r0.noiseLabel,
        family: r0.family,
        size: r0.size,
        P: r0.P,
        runs: rs.length,
        met: k,
        exact: rs.filter((r) => r.exact).length,
        rate: k / rs.length,
        label: `${k}/${rs.length}`,
        caught: rs.filter((r) => !r.met && (r.checkPassed === false || r.failed)).length,
        silent: rs.filter((r) => r.silent).length,
        errors: rs.filter((r) => r.failed).length,
      };
    });
    const rank = (list: string[], x: string) => list.indexOf(x);
    cells.sort(
      (a, b) =>
        rank(methods, a.method) - rank(methods, b.method) ||
        a.noise - b.noise ||
        rank(families, a.family) - rank(families, b.family) ||
        rank(sizes, a.size) - rank(sizes, b.size),
    );
    const rateRows: Cell[][] = cells.map((c) => [
      ...(methods.length > 1 ? [c.method] : []),
      c.noiseLabel.replace('noise ', ''),
      c.family,
      c.size,
      c.P,
      c.runs,
      { n: `${c.exact}/${c.runs}` },
      { n: `${c.met}/${c.runs}` },
      { n: `${Math.round(100 * c.rate)}%` },
      { n: c.runs - c.met ? `${c.caught}/${c.runs - c.met}` : '-' },
      c.silent,
    ]);
    sections.push(
      figure(
        'rates',
        'Exact rate over the grid',
        await renderSvg(rateSpec(cells, sizes, families, noises, methods)),
        'Share of runs that met the target, per grid point (cell text: runs met / runs). Noiseless: exact, every a<sub>i</sub> and v<sub>l</sub> at |cos| ≥ 1 − 10<sup>−9</sup> and relative L2 ≤ 10<sup>−8</sup> on the unit sphere and on N(0, I<sub>d</sub>); with noise: relative L2 ≤ max(10<sup>−8</sup>, 10 · noise) on both. σ is the std of the shifts θ, τ. One panel per noise level' +
          (methods.length > 1 ? ', one row per method.' : '.'),
        table(
          [...(methods.length > 1 ? ['method'] : []), 'noise', 'family', '(d, m0, m1)', 'P', 'runs', 'exact', 'target met', 'rate', 'misses caught by the check', 'silent failures'],
          rateRows,
        ),
      ),
    );

    // --- queries per P and seconds against P ---
    const points = runs.map((r) => ({ method: r.method, P: r.P, perP: r.queries / r.P, seconds: r.seconds, size: r.size }));
    const byMethodSize = [...groupBy(runs, (r) => JSON.stringify([r.method, r.size])).values()].sort(
      (a, b) => rank(methods, a[0].method) - rank(methods, b[0].method) || a[0].P - b[0].P,
    );
    const medians = byMethodSize.map((rs) => ({
      method: rs[0].method,
      size: rs[0].size,
      P: rs[0].P,
      runs: rs.length,
      perP: median(rs.map((r) => r.queries / r.P)),
      perPMin: Math.min(...rs.map((r) => r.queries / r.P)),
      perPMax: Math.max(...rs.map((r) => r.queries / r.P)),
      queries: median(rs.map((r) => r.queries)),
      seconds: median(rs.map((r) => r.seconds)),
      secondsMax: Math.max(...rs.map((r) => (Number.isFinite(r.seconds) ? r.seconds : -Infinity))),
      stages: STAGES.map((s) => median(rs.map((r) => r.stageSeconds[s] ?? NaN))),
    }));
    const plottable = (field: 'perP' | 'seconds') => points.filter((p) => Number.isFinite(p[field]) && p[field] > 0);
    const m = methods.length > 1;
    const qPoints = plottable('perP');
    if (qPoints.length) {
      sections.push(
        figure(
          'queries',
          'Queries per parameter against P',
          await renderSvg(costSpec(qPoints, medians.filter((x) => x.perP > 0), 'perP', 'queries / P (log)', methods)),
          'Total queries of each run divided by its parameter count P = d m0 + m0 + m0 m1 + m1 (dots: runs; line: median per size), both axes logarithmic.',
          table(
            [...(m ? ['method'] : []), '(d, m0, m1)', 'P', 'runs', 'median queries', 'median queries / P', 'min / P', 'max / P'],
            medians.map((x) => [...(m ? [x.method] : []), x.size, x.P, x.runs, Math.round(x.queries), { n: num(x.perP) }, { n: num(x.perPMin) }, { n: num(x.perPMax) }]),
          ),
        ),
      );
    } else {
      sections.push(note('queries', 'Queries per parameter against P', 'No run in these records counts its queries.'));
    }
    const sPoints = plottable('seconds');
    if (sPoints.length) {
      sections.push(
        figure(
          'seconds',
          'Seconds against P',
          await renderSvg(costSpec(sPoints, medians.filter((x) => x.seconds > 0), 'seconds', 'seconds per run (log)', methods)),
          'Wall time of each identification (its report’s total, scoring excluded; dots: runs; line: median per size), both axes logarithmic. Runs of a sweep share the machine’s cores, one run per worker thread.',
          table(
            [...(m ? ['method'] : []), '(d, m0, m1)', 'P', 'runs', 'median s', 'max s', ...STAGES.map((s) => `median s: ${s}`)],
            medians.map((x) => [...(m ? [x.method] : []), x.size, x.P, x.runs, { n: num(x.seconds) }, { n: num(x.secondsMax) }, ...x.stages.map((v) => ({ n: num(v) }))]),
          ),
        ),
      );
    } else {
      sections.push(note('seconds', 'Seconds against P', 'No run in these records times itself.'));
    }

    // --- runs that missed ---
    const missed = runs.filter((r) => !r.met);
    if (missed.length) {
      const shown = missed.slice(0, 200);
      sections.push(
        `<section id="missed"><h2>Runs that missed the target (${missed.length})</h2>` +
          table(
            ['run', ...(m ? ['method'] : []), 'why', 'truth-free check'],
            shown.map((r) => [
              r.id,
              ...(m ? [r.method] : []),
              r.cause ?? '',
              r.failed ? 'error' : r.checkPassed === false ? 'flagged it' : r.checkPassed === true ? 'passed: a silent failure' : 'none ran',
            ]),
          ) +
          (missed.length > shown.length ? `<p>and ${missed.length - shown.length} more.</p>` : '') +
          '</section>',
      );
    }
  }
  if (crashes.length) {
    sections.push(
      `<section id="crashed"><h2>Runs that crashed (${crashes.length})</h2><p>No figures: rerunning the sweep runs them again.</p>` +
        table(['run', 'error'], crashes.slice(0, 200).map((r) => [r.id, r.error ?? ''])) +
        '</section>',
    );
  }
  return page(title, [...head, ...sections].join('\n'));
}

