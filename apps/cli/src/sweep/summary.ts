/** The summary table of a sweep: one row per grid point, medians over its seeds. */
import type { ExperimentRecord } from '@nnid/pipeline';
import { isCrash, type CrashRecord, type SweepRecord } from './records.ts';

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

const e = (x: number) => (Number.isFinite(x) ? x.toExponential(1) : 'n/a');
const gap = (c: number) => (Number.isFinite(c) ? (c >= 1 ? '0' : (1 - c).toExponential(0)) : 'n/a');

export function groupKey(r: SweepRecord): string {
  const s = r.spec;
  return `${s.inputDim},${s.width1},${s.width2} ${s.activation.layer1}/${s.activation.layer2} s=${s.shiftStd} noise=${s.noise}` + (s.perturb ? ` perturb=${s.perturb}` : '') + (s.identify?.queryBudget !== undefined ? ` target=${s.identify.queryBudget}P` : '');
}

/**
 * Markdown table over the finished runs, in the order grid points first appear; crashed runs are
 * no results, so they stay out of the table and are listed after it.
 */
export function summaryTable(all: SweepRecord[]): string[] {
  const records = all.filter((r): r is ExperimentRecord => !isCrash(r));
  const crashes = all.filter((r): r is CrashRecord => isCrash(r));
  const groups = new Map<string, ExperimentRecord[]>();
  for (const r of records) {
    const k = groupKey(r);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const lines = [
    '| (d, m0, m1) activation shifts noise | runs | target met | caught by check | before: median 1-min\\|cos\\| a / v | after: median 1-min\\|cos\\| a / v | after: worst rel. L2 (sphere, N(0,I)) | queries (median, max / P) | seconds (median: total; hessians, rank-one, shifts, refine) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [key, rs] of groups) {
    const met = rs.filter((r) => r.targetMet).length;
    const failed = rs.filter((r) => !r.targetMet);
    const caught = failed.filter((r) => r.checkPassed === false || r.error).length;
    // a run whose identify threw has no figures (before and after null): not counted as perfect
    const beforeA = median(rs.map((r) => r.before?.firstLayer.minCos ?? NaN));
    const beforeV = median(rs.map((r) => r.before?.entangled.minCos ?? NaN));
    const afterA = median(rs.map((r) => r.after?.firstLayer.minCos ?? NaN));
    const afterV = median(rs.map((r) => r.after?.entangled.minCos ?? NaN));
    const worstSphere = Math.max(...rs.map((r) => (r.after ?? r.before)?.function.sphere.relativeL2 ?? -Infinity));
    const worstGauss = Math.max(...rs.map((r) => (r.after ?? r.before)?.function.gaussian.relativeL2 ?? -Infinity));
    const q = rs.map((r) => Number((r.queries as { total?: number }).total ?? NaN));
    const qp = rs.map((r, i) => q[i] / r.parameterCount);
    const sec = (k: string) => median(rs.map((r) => r.seconds[k] ?? NaN));
    lines.push(
      `| ${key} | ${rs.length} | ${met}/${rs.length} | ${failed.length ? `${caught}/${failed.length}` : '-'} | ${gap(beforeA)} / ${gap(beforeV)} | ${gap(afterA)} / ${gap(afterV)} | ${e(worstSphere)}, ${e(worstGauss)} | ${Math.round(median(q))} (${median(qp).toFixed(1)} P), ${Math.max(...qp).toFixed(1)} P | ${sec('total').toFixed(2)}; ${sec('hessians').toFixed(2)}, ${sec('rankOne').toFixed(2)}, ${sec('shifts').toFixed(2)}, ${sec('refine').toFixed(2)} |`,
    );
  }
  const failures = records.filter((r) => !r.targetMet);
  if (failures.length) {
    lines.push('', 'Runs that missed the target:', '');
    for (const r of failures) {
      const verdict = r.error ? 'error' : r.checkPassed === false ? 'flagged by the truth-free check' : 'NOT flagged (silent)';
      lines.push(`- ${r.id}: ${r.cause} — ${verdict}`);
    }
  }
  if (crashes.length) {
    lines.push('', 'Runs that crashed (no figures; rerunning the same command runs them again):', '');
    for (const r of crashes) lines.push(`- ${r.id}: ${r.error}`);
  }
  return lines;
}
