/**
 * identify's progress on stderr: the plan in one line (two with its warning), one line per stage
 * run with the seconds identify measured, so the lines add up to the report's seconds.
 */
import { describe, expect, it } from 'vitest';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify } from '@nnid/pipeline';
import { stageProgress, thresholdText } from '../src/progress.ts';

function fakeStream() {
  const chunks: string[] = [];
  const stream = { isTTY: false, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
}

describe('stageProgress', () => {
  it('prints the plan and its warning, bars for stages with steps, and each stage end with its own seconds', () => {
    const { stream, lines } = fakeStream();
    const progress = stageProgress({ stream });
    progress.update({ event: 'plan', stage: 'plan', done: 0, total: 0, message: '100 queries = 150.0 P (...)\nwarning: the plan (150.0 P) exceeds the target of 20 P (queryBudget): ...' });
    progress.update({ event: 'start', stage: 'hessians', done: 0, total: 1 });
    for (let k = 1; k <= 8; k++) progress.update({ event: 'step', stage: 'hessians', done: k, total: 8 });
    progress.update({ event: 'end', stage: 'hessians', done: 1, total: 1, seconds: 1.23456 });
    progress.update({ event: 'start', stage: 'rankOne', done: 0, total: 1, message: '80 starts' });
    progress.update({ event: 'end', stage: 'rankOne', done: 1, total: 1, seconds: 0.5 });
    progress.done();
    expect(lines()).toEqual([
      'plan: 100 queries = 150.0 P (...)',
      'warning: the plan (150.0 P) exceeds the target of 20 P (queryBudget): ...',
      'hessians: 13% (1/8) ',
      'hessians: 25% (2/8) ',
      'hessians: 50% (4/8) ',
      'hessians: 75% (6/8) ',
      'hessians: 100% (8/8) ',
      'hessians: done in 1.23 s',
      'rankOne: done in 0.50 s',
    ]);
  });

  it("prints activation auto's and method auto's notes, one line each with their CPU seconds", () => {
    const { stream, lines } = fakeStream();
    const progress = stageProgress({ stream });
    progress.update({ event: 'note', stage: 'activation', done: 1, total: 1, message: 'probe tanh/tanh: residual 3.10e-3, failed (threshold 1.00e-9)', seconds: 2.34 });
    progress.update({ event: 'note', stage: 'method', done: 1, total: 1, message: 'fit screen gelu/tanh widths (6, 3): residual 2.00e-7, passed', seconds: 10 });
    expect(lines()).toEqual(['activation auto: probe tanh/tanh: residual 3.10e-3, failed (threshold 1.00e-9) (2.3 CPU s)', 'method auto: fit screen gelu/tanh widths (6, 3): residual 2.00e-7, passed (10.0 CPU s)']);
  });

  it('thresholdText: a short threshold as given, a noise-aware one to three digits', () => {
    expect([thresholdText(1e-9), thresholdText(2.112336930080006e-7), thresholdText(1e-8)]).toEqual(['1e-9', '2.11e-7', '1e-8']);
  });

  it('is silent when quiet', () => {
    const { stream, lines } = fakeStream();
    const progress = stageProgress({ quiet: true, stream });
    progress.update({ event: 'plan', stage: 'plan', done: 0, total: 0, message: 'x' });
    progress.update({ event: 'end', stage: 'noise', done: 1, total: 1, seconds: 1 });
    expect(lines()).toEqual([]);
  });

  it("on a real run: the plan line first, and the stage lines' seconds add up to report.seconds, stage by stage", async () => {
    const { stream, lines } = fakeStream();
    const progress = stageProgress({ stream });
    const truth = randomNetwork({ inputDim: 8, width1: 4, width2: 2, seed: 1 });
    const { report } = await identify(createOracle(networkBlackBox(truth)), {
      width1: 4,
      width2: 2,
      activation: { layer1: 'tanh', layer2: 'tanh' },
      seed: 1,
      threads: 1,
      onProgress: progress.update,
    });
    progress.done();
    const printed = lines();
    expect(printed[0]).toMatch(new RegExp(`^plan: ${report.plan.total} queries = ${report.plan.multipleOfP.toFixed(1)} P`));
    const sums = new Map<string, { seconds: number; lines: number }>();
    for (const line of printed) {
      const m = /^(\w+): done in (\d+\.\d\d) s$/.exec(line);
      if (!m) continue;
      const s = sums.get(m[1]) ?? { seconds: 0, lines: 0 };
      sums.set(m[1], { seconds: s.seconds + Number(m[2]), lines: s.lines + 1 });
    }
    const { total: _total, ...byStage } = report.seconds;
    expect([...sums.keys()].sort()).toEqual(Object.keys(byStage).sort());
    // each line rounds to 0.01 s
    for (const [stage, s] of sums) expect(Math.abs(s.seconds - byStage[stage as keyof typeof byStage]!)).toBeLessThanOrEqual(0.005 * s.lines + 1e-9);
  });
});
