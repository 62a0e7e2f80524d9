/**
 * The report of one identification (`nnid identify --out result.json`: a network file plus its
 * "report"): the spectrum of the Hessian stack with the chosen dimension of W-hat and its gap, the
 * |cos| of every recovered weight before and after refinement, the refinement's residual per
 * iteration, queries and seconds per stage, and the truth-free check's verdict in words.
 */
import { parseNetwork, type Network } from '@nnid/core';
import { score } from '@nnid/pipeline';
import type { TopLevelSpec } from 'vega-lite';
import { escapeHtml, figure, note, num, page, sci, table, type Cell } from './html.ts';
import { renderSvg } from './render.ts';

/** |cos| of each true vector with its match (the pipeline's WeightScore, the fields read here). */
interface WeightScoreInput {
  cosines: number[];
  minCos?: number;
}
interface ScoreInput {
  firstLayer: WeightScoreInput;
  entangled: WeightScoreInput;
  function?: { points?: number; sphere?: { relativeL2: number; maxError: number }; gaussian?: { relativeL2: number; maxError: number } };
}

interface AttemptInput {
  subspaceDimension?: number;
  width2?: number;
  reason?: string;
  ranIn?: string;
  subspace?: { dimension?: number; gapAtDimension?: number; singularValues?: number[] } | null;
  refine?: { residualHistory?: number[]; iterations?: number; relativeResidual?: number; message?: string } | null;
  pipelineResidual?: number | null;
  refinedResidual?: number | null;
  queries?: { total?: number } | null;
  seconds?: number;
}

/**
 * The fields of identify's report that this page reads (a structural subset of the pipeline's
 * IdentifyReport plus what `nnid identify` adds: `score` when it knew the truth).
 */
export interface RunReportInput {
  parameterCount?: number;
  widths?: { inputDim?: number; width1?: number; width1Source?: string; width2?: number; width2Source?: string; reducedDim?: number };
  options?: Record<string, unknown>;
  queries?: { total?: number; paid?: number; reused?: number; multipleOfP?: number; byStage?: Record<string, { total?: number; paid?: number; reused?: number }> } & Record<string, unknown>;
  seconds?: Record<string, number>;
  threads?: number;
  spectrum?: { gradients?: number[] | null; hessians?: number[] | null };
  attempts?: AttemptInput[];
  chosenAttempt?: number;
  networkBeforeRefinement?: unknown;
  check?: { relativeResidual: number | null; threshold: number; passed: boolean | null; on?: string; noise?: number; noiseFloor?: boolean } | null;
  noise?: { sigma?: number; source?: string } | null;
  warnings?: string[];
  oracle?: { kind?: string; spec?: string } & Record<string, unknown>;
  score?: { beforeRefinement?: ScoreInput; afterRefinement?: ScoreInput };
}

/** A result file: a network (nnid.network/v1 fields) with its report. */
export interface RunResultInput {
  format?: string;
  report: RunReportInput;
  [field: string]: unknown;
}

export interface RunReportOptions {
  /** The true network: the weights are scored against it (matched by @nnid/pipeline's score). */
  truth?: Network;
  /** Test points per distribution for the function errors against the truth (default 10 000). */
  points?: number;
  /** The page title (default "nnid identify report"). */
  title?: string;
  /** Where the result came from, printed under the title (e.g. the file name). */
  source?: string;
}

/** Log-axis labels: 1e-16 rather than 0.0000000000000001, 0.2 rather than 2e-1. */
const LOG_AXIS = { labelExpr: "datum.value < 1e-3 || datum.value >= 1e4 ? format(datum.value, '.0e') : format(datum.value, '~g')" };

/** Where the Hessian-stack spectrum splits into W-hat and the rest. */
function spectrumSpec(values: number[], k: number, what: string, kLabel: string): TopLevelSpec {
  const rows = values.map((v, i) => ({ index: i + 1, value: v, part: i < k ? `kept (${kLabel})` : 'discarded' })).filter((r) => r.value > 0);
  const gap = k >= 1 && k < values.length && values[k] > 0 ? values[k - 1] / values[k] : NaN;
  const top = Math.max(...rows.map((r) => r.value));
  return {
    width: 400,
    height: 240,
    title: what,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', color: '#999', strokeWidth: 1 },
        encoding: {
          x: { field: 'index', type: 'quantitative', title: 'index i', scale: { domain: [0, values.length + 1], nice: false }, axis: { tickMinStep: 1 } },
          y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'singular value s_i (log)', axis: LOG_AXIS },
        },
      },
      {
        data: { values: rows },
        mark: { type: 'point', filled: true, size: 40 },
        encoding: {
          x: { field: 'index', type: 'quantitative' },
          y: { field: 'value', type: 'quantitative', scale: { type: 'log' } },
          color: { field: 'part', type: 'nominal', title: null, scale: { range: ['#1f77b4', '#d62728'] }, sort: [`kept (${kLabel})`, 'discarded'], legend: { orient: 'bottom-left', labelLimit: 300 } },
        },
      },
      {
        data: { values: [{ at: k + 0.5, top, label: `${kLabel} = ${k}` + (Number.isFinite(gap) ? `, gap s${k}/s${k + 1} = ${num(gap)}` : '') }] },
        layer: [
          { mark: { type: 'rule', strokeDash: [5, 3], color: '#333' }, encoding: { x: { field: 'at', type: 'quantitative' } } },
          {
            mark: { type: 'text', align: 'left', dx: 4, dy: 2, baseline: 'top', fontSize: 11 },
            encoding: { x: { field: 'at', type: 'quantitative' }, y: { field: 'top', type: 'quantitative', scale: { type: 'log' } }, text: { field: 'label', type: 'nominal' } },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

const FLOOR = 1e-16;

function cosSpec(rows: object[], order: string[], stages: string[]): TopLevelSpec {
  // wide layers: the points shrink to fit the page, and the labels go once they would collide
  const step = Math.max(3, Math.min(26, Math.floor(640 / Math.max(1, order.length))));
  return {
    data: { values: rows },
    facet: { column: { field: 'kind', type: 'nominal', title: null, sort: ['first layer a_i', 'entangled v_l'] } },
    spec: {
      width: { step },
      height: 260,
      layer: [
        {
          mark: { type: 'point', filled: true, size: step < 10 ? 16 : 60, opacity: 0.85 },
          encoding: {
            x: { field: 'weight', type: 'nominal', sort: order, title: step < 16 ? 'weights, by true unit' : null, axis: step < 16 ? { labels: false, ticks: false } : { labelAngle: 0 } },
            y: { field: 'gap', type: 'quantitative', scale: { type: 'log', domain: [FLOOR / 2, 1] }, title: '1 − |cos| (log; lower is better)', axis: LOG_AXIS },
            color: { field: 'stage', type: 'nominal', sort: stages, title: null, scale: { range: ['#ff7f0e', '#1f77b4'] } },
            shape: { field: 'stage', type: 'nominal', sort: stages, title: null, scale: { range: ['triangle-up', 'circle'] } },
          },
        },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  } as TopLevelSpec;
}

function residualSpec(rows: object[], attempts: string[], threshold: number | null): TopLevelSpec {
  const layers: object[] = [
    {
      data: { values: rows },
      mark: { type: 'line', point: true, strokeWidth: 1.5 },
      encoding: {
        x: { field: 'iteration', type: 'quantitative', title: 'Levenberg–Marquardt iteration', axis: { tickMinStep: 1 } },
        y: { field: 'residual', type: 'quantitative', scale: { type: 'log' }, title: 'relative residual (log)', axis: LOG_AXIS },
        color: { field: 'attempt', type: 'nominal', sort: attempts, title: 'attempt' },
      },
    },
  ];
  if (threshold !== null && threshold > 0) {
    layers.push({
      data: { values: [{ threshold, label: `check threshold ${sci(threshold)}` }] },
      layer: [
        { mark: { type: 'rule', strokeDash: [5, 3], color: '#2ca02c' }, encoding: { y: { field: 'threshold', type: 'quantitative' } } },
        {
          mark: { type: 'text', align: 'left', baseline: 'bottom', dy: -2, x: 4, color: '#2ca02c', fontSize: 11 },
          encoding: { y: { field: 'threshold', type: 'quantitative' }, text: { field: 'label', type: 'nominal' } },
        },
      ],
    });
  }
  return { width: 520, height: 280, layer: layers } as TopLevelSpec;
}

function costSpec(queries: object[], seconds: object[], stagesQ: string[], stagesS: string[], reused: boolean): TopLevelSpec {
  return {
    hconcat: [
      {
        title: 'queries per stage',
        data: { values: queries },
        width: 260,
        height: { step: 20 },
        mark: 'bar',
        encoding: {
          y: { field: 'stage', type: 'nominal', sort: stagesQ, title: null },
          x: { field: 'count', type: 'quantitative', title: 'queries', stack: 'zero' },
          color: reused
            ? { field: 'source', type: 'nominal', title: null, sort: ['paid', 'from the store'], scale: { range: ['#1f77b4', '#aec7e8'] } }
            : { value: '#1f77b4' },
        },
      },
      {
        title: 'seconds per stage',
        data: { values: seconds },
        width: 260,
        height: { step: 20 },
        mark: { type: 'bar', color: '#ff7f0e' },
        encoding: {
          y: { field: 'stage', type: 'nominal', sort: stagesS, title: null },
          x: { field: 'seconds', type: 'quantitative', title: 'seconds' },
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

/** The check's verdict as a sentence a user reads before anything else. */
export function checkVerdict(report: RunReportInput): { cls: 'pass' | 'fail' | 'none'; html: string } {
  const c = report.check;
  if (!c || c.passed === null || c.passed === undefined) {
    return {
      cls: 'none',
      html: '<b>No truth-free check.</b> Refinement was off (the paper’s pipeline alone), so nothing measured whether this network reproduces the black box; judge it by a score against the truth, where known.',
    };
  }
  const data = c.on === 'shift-data' ? 'the shift fit’s data' : 'the refinement’s data';
  const floor = c.noiseFloor ? ` (set by the oracle’s noise, σ = ${sci(c.noise ?? NaN)})` : '';
  const n = report.attempts?.length ?? 1;
  if (c.passed) {
    return {
      cls: 'pass',
      html:
        `<b>The truth-free check passed.</b> The returned network reproduces the black box’s answers on ${data} to a relative residual of ${sci(c.relativeResidual)}, ` +
        `below the threshold ${sci(c.threshold)}${floor}` +
        (n > 1 ? `, at attempt ${(report.chosenAttempt ?? n - 1) + 1} of ${n}` : '') +
        `. Without knowing the truth, this says the identification is ${c.noiseFloor ? 'exact to the noise level' : 'exact'}.`,
    };
  }
  return {
    cls: 'fail',
    html:
      `<b>The truth-free check FAILED.</b> After ${n} attempt${n === 1 ? '' : 's'}, the best network leaves a relative residual of ${sci(c.relativeResidual)} on ${data}, ` +
      `above the threshold ${sci(c.threshold)}${floor}: it does not reproduce the black box, and its weights should not be trusted.`,
  };
}

const STAGE_ORDER = ['noise', 'gradients', 'range', 'hessians', 'subspace', 'rankOne', 'attribution', 'completion', 'entangled', 'shifts', 'upperFit', 'refine'];

function stageOrder(names: string[]): string[] {
  const rank = (s: string) => {
    const i = STAGE_ORDER.indexOf(s);
    return i < 0 ? STAGE_ORDER.length : i;
  };
  return [...names].sort((a, b) => rank(a) - rank(b));
}

function asScore(s: ScoreInput | undefined): ScoreInput | null {
  return s && Array.isArray(s.firstLayer?.cosines) && Array.isArray(s.entangled?.cosines) ? s : null;
}

function parseOrNull(json: unknown): Network | null {
  if (!json || typeof json !== 'object') return null;
  try {
    return parseNetwork(json);
  } catch {
    return null;
  }
}

/**
 * The report of one identification: one self-contained HTML page (inline SVG, no script, no
 * network).
 *
 * @example
 * const result = JSON.parse(readFileSync('result.json', 'utf8'));
 * const html = await runReport(result, { truth: readNetworkFile('net.json') });
 */
export async function runReport(result: RunResultInput, options: RunReportOptions = {}): Promise<string> {
  const report = result.report;
  const title = options.title ?? 'nnid identify report';
  const attempts = report.attempts ?? [];
  const chosen = report.chosenAttempt ?? attempts.length - 1;
  const chosenAttempt = attempts[chosen];
  const refined = report.options?.refine !== false;
  const after = parseOrNull(result);
  const before = parseOrNull(report.networkBeforeRefinement);
  const w = report.widths ?? {};
  const P = report.parameterCount;
  const sections: string[] = [];

  // --- header and verdict ---
  const verdict = checkVerdict(report);
  const q = report.queries ?? {};
  const facts = [
    after ? `d = ${after.inputDim}, m0 = ${after.width1}, m1 = ${after.width2}, ${after.activation.layer1}/${after.activation.layer2}` : null,
    P !== undefined ? `P = ${P} parameters` : null,
    q.total !== undefined ? `${q.total} queries${q.multipleOfP !== undefined ? ` (${num(q.multipleOfP)} P)` : ''}` : null,
    report.seconds?.total !== undefined ? `${num(report.seconds.total)} s on ${report.threads ?? '?'} thread(s)` : null,
    report.oracle?.spec ? `black box: ${report.oracle.kind ?? ''} ${report.oracle.spec}` : null,
  ].filter((x): x is string => x !== null);
  sections.push(
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">${escapeHtml((options.source ? `${options.source}: ` : '') + facts.join('; '))}</p>`,
    `<div class="verdict ${verdict.cls}">${verdict.html}</div>`,
  );

  // --- spectrum ---
  const hess = report.spectrum?.hessians ?? chosenAttempt?.subspace?.singularValues ?? null;
  const k = chosenAttempt?.subspace?.dimension ?? chosenAttempt?.subspaceDimension;
  if (hess && hess.length && k !== undefined) {
    const plots = [spectrumSpec(hess, k, 'Hessian stack', 'dim W-hat')];
    const grad = report.spectrum?.gradients;
    const reduced = w.reducedDim;
    if (grad && grad.length && reduced !== undefined && reduced < grad.length) plots.push(spectrumSpec(grad, reduced, 'gradients (range(A))', 'dim range(A)'));
    const svg = await renderSvg((plots.length > 1 ? { hconcat: plots, resolve: { scale: { color: 'independent' } } } : plots[0]) as TopLevelSpec);
    const gap = k < hess.length && hess[k] > 0 ? hess[k - 1] / hess[k] : NaN;
    const dims = attempts.map((a, i) => `${a.subspace?.dimension ?? a.subspaceDimension}${i === chosen ? ' (chosen)' : ''}`);
    sections.push(
      figure(
        'spectrum',
        'Spectrum of the Hessian stack',
        svg,
        `Singular values of the stacked, vectorized Hessians (log axis). W-hat is spanned by the first ${k} (blue); the dashed line marks the chosen dimension and the gap s<sub>${k}</sub>/s<sub>${k + 1}</sub> = ${escapeHtml(num(gap))}. ` +
          `m0 + m1 = ${(w.width1 ?? 0) + (w.width2 ?? 0)}; dimensions tried: ${escapeHtml(dims.join(', ') || String(k))}.` +
          (plots.length > 1 ? ` Right: the gradients’ singular values, whose gap gives range(A) (dimension ${reduced}).` : ''),
        `<details class="numbers-more" open><summary>singular values (${hess.length})</summary>` +
          table(
            ['i', 's_i', 's_i / s_(i+1)', 'in W-hat'],
            hess.map((v, i) => [i + 1, { n: sci(v, 4) }, { n: i + 1 < hess.length && hess[i + 1] > 0 ? num(v / hess[i + 1]) : 'n/a' }, i < k ? 'yes' : '']),
          ) +
          '</details>',
      ),
    );
  } else {
    sections.push(note('spectrum', 'Spectrum of the Hessian stack', 'The report has no Hessian spectrum or no chosen dimension.'));
  }

  // --- |cos| of every weight ---
  let scores: { before: ScoreInput | null; after: ScoreInput | null; against: string } | null = null;
  if (options.truth && before) {
    const points = options.points ?? 10_000;
    scores = {
      before: score(options.truth, before, { points }),
      after: refined && after ? score(options.truth, after, { points }) : null,
      against: 'the true network given (--truth)',
    };
  } else if (asScore(report.score?.beforeRefinement)) {
    scores = {
      before: asScore(report.score?.beforeRefinement),
      after: asScore(report.score?.afterRefinement),
      against: 'the true network (the network file identify opened as its black box; scored by nnid identify)',
    };
  } else if (before && after && refined) {
    scores = { before: score(after, before, { points: 1000 }), after: null, against: 'the refined network (no truth known: how far refinement moved each weight)' };
  }
  if (scores && scores.before) {
    const truthKnown = !scores.against.startsWith('the refined');
    const stages = truthKnown ? ['before refinement', 'after refinement'] : ['before refinement'];
    const rows: { kind: string; weight: string; stage: string; cos: number; gap: number }[] = [];
    const order: string[] = [];
    const add = (s: ScoreInput, stage: string) => {
      s.firstLayer.cosines.forEach((c, i) => rows.push({ kind: 'first layer a_i', weight: `a${i + 1}`, stage, cos: c, gap: Math.max(1 - c, FLOOR) }));
      s.entangled.cosines.forEach((c, l) => rows.push({ kind: 'entangled v_l', weight: `v${l + 1}`, stage, cos: c, gap: Math.max(1 - c, FLOOR) }));
    };
    add(scores.before, stages[0]);
    if (scores.after) add(scores.after, stages[1]);
    for (const r of rows) if (!order.includes(r.weight)) order.push(r.weight);
    const tableRows: Cell[][] = order.map((wgt) => {
      const b = rows.find((r) => r.weight === wgt && r.stage === stages[0]);
      const a = rows.find((r) => r.weight === wgt && r.stage === stages[1]);
      return [wgt, { n: b ? b.cos.toFixed(12) : 'n/a' }, { n: b ? sci(1 - b.cos) : 'n/a' }, ...(scores!.after ? [{ n: a ? a.cos.toFixed(12) : 'n/a' }, { n: a ? sci(1 - a.cos) : 'n/a' }] : [])];
    });
    const fn = (s: ScoreInput | null) =>
      s?.function?.sphere && s.function.gaussian ? `${sci(s.function.sphere.relativeL2)} on the unit sphere, ${sci(s.function.gaussian.relativeL2)} on N(0, I_d)` : null;
    const fnLines = truthKnown
      ? [fn(scores.before) ? `before refinement: ${fn(scores.before)}` : null, fn(scores.after) ? `after refinement: ${fn(scores.after)}` : null].filter(Boolean)
      : [];
    sections.push(
      figure(
        'weights',
        'Recovered weights against ' + (truthKnown ? 'the truth' : 'the refined network'),
        await renderSvg(cosSpec(rows, order, stages)),
        `1 − |cos| of every recovered weight with its match in ${escapeHtml(scores.against)}, matched up to sign and permutation (Hungarian assignment on |cos|), ` +
          `first-layer weights a<sub>i</sub> and entangled weights v<sub>l</sub>; values below 10<sup>−16</sup> drawn at 10<sup>−16</sup>.` +
          (fnLines.length ? ` Relative L2 error of the function on ${scores.before.function?.points ?? ''} points: ${escapeHtml(fnLines.join('; '))}.` : '') +
          (truthKnown && !scores.after && !refined ? ' No refinement ran: the pipeline’s weights only.' : ''),
        table(
          ['weight', `|cos| ${stages[0]}`, `1 − |cos|`, ...(scores.after ? [`|cos| ${stages[1]}`, '1 − |cos|'] : [])],
          tableRows,
        ),
      ),
    );
  } else {
    sections.push(
      note(
        'weights',
        'Recovered weights',
        'No truth to compare with (give <code>--truth net.json</code>), and no refined network to compare the pipeline’s weights with.',
      ),
    );
  }

  // --- refinement residual per iteration ---
  const attemptLabel = (i: number) => `${i + 1}${i === chosen ? ' (chosen)' : ''}`;
  const resRows: { attempt: string; iteration: number; residual: number }[] = [];
  attempts.forEach((a, i) => {
    (a.refine?.residualHistory ?? []).forEach((r, it) => {
      if (r > 0 && Number.isFinite(r)) resRows.push({ attempt: attemptLabel(i), iteration: it, residual: r });
    });
  });
  const attemptTable = table(
    ['attempt', 'dim W-hat', 'm1', 'why it ran', 'pipeline residual', 'refined residual', 'LM iterations', 'seconds'],
    attempts.map((a, i) => [
      attemptLabel(i),
      a.subspace?.dimension ?? a.subspaceDimension ?? NaN,
      a.width2 ?? NaN,
      a.reason ?? '',
      { n: sci(a.pipelineResidual) },
      { n: sci(a.refinedResidual) },
      a.refine?.iterations ?? NaN,
      { n: num(a.seconds) },
    ]),
  );
  if (resRows.length) {
    const labels = attempts.map((_, i) => attemptLabel(i)).filter((l) => resRows.some((r) => r.attempt === l));
    sections.push(
      figure(
        'residual',
        'Refinement: residual per iteration',
        await renderSvg(residualSpec(resRows, labels, report.check?.threshold ?? null)),
        'Relative residual of Levenberg–Marquardt on all parameters, per iteration (iteration 0: the network the pipeline assembled), log axis, one line per attempt; the dashed line is the truth-free check’s threshold.',
        attemptTable,
      ),
    );
  } else {
    sections.push(
      note('residual', 'Refinement: residual per iteration', refined ? 'The report has no per-iteration residuals of the refinement.' : 'No refinement ran (the paper’s pipeline alone).') +
        (attempts.length ? attemptTable : ''),
    );
  }

  // --- queries and seconds per stage ---
  const byStage = q.byStage ?? {};
  const qStages = stageOrder(Object.keys(byStage));
  const anyReused = qStages.some((s) => (byStage[s].reused ?? 0) > 0);
  const qRows = qStages.flatMap((s) => {
    const b = byStage[s];
    const paid = b.paid ?? b.total ?? 0;
    return anyReused ? [{ stage: s, source: 'paid', count: paid }, { stage: s, source: 'from the store', count: b.reused ?? 0 }] : [{ stage: s, source: 'paid', count: b.total ?? 0 }];
  });
  const secs = report.seconds ?? {};
  const sStages = stageOrder(Object.keys(secs).filter((s) => s !== 'total' && Number.isFinite(secs[s])));
  const sRows = sStages.map((s) => ({ stage: s, seconds: secs[s] }));
  if (qRows.length || sRows.length) {
    const stageTable = table(
      ['stage', 'queries', 'paid', 'from the store', 'seconds'],
      stageOrder([...new Set([...qStages, ...sStages])]).map((s) => [
        s,
        byStage[s]?.total ?? NaN,
        byStage[s]?.paid ?? NaN,
        byStage[s]?.reused ?? NaN,
        { n: secs[s] !== undefined ? num(secs[s]) : 'n/a' },
      ]).concat([['total', q.total ?? NaN, q.paid ?? NaN, q.reused ?? NaN, { n: num(secs.total) }]]),
    );
    sections.push(
      figure(
        'cost',
        'Queries and seconds per stage',
        await renderSvg(costSpec(qRows, sRows, qStages, sStages, anyReused)),
        `Queries each stage asked of the black box${anyReused ? ' (paid, and answered from the query store)' : ''}, and wall time per stage on ${report.threads ?? '?'} thread(s). A stage without queries of its own (e.g. the subspace, rank-one and attribution stages) works on the answers of the stages before it.`,
        stageTable,
      ),
    );
  }

  const warnings = report.warnings ?? [];
  if (warnings.length) {
    sections.push(`<section id="warnings"><h2>Warnings (${warnings.length})</h2><ul>${warnings.map((x) => `<li>${escapeHtml(x)}</li>`).join('')}</ul></section>`);
  }
  return page(title, sections.join('\n'));
}
