/**
 * Method 'auto''s continuation over candidate widths (continueAfterPipeline): a pipeline whose check
 * failed with the wrong m1 (its widths evidence at that m1, m1 not established) hands over its
 * network and answers; the fit screens every m1 <= m0, fits the best few in full, and the passing
 * network sheds the units the others take up: the true m1, exact. Asserted against the truth and
 * the report's path (which m1 were screened, in which order), not the path a fit took.
 */
import { describe, expect, it } from 'vitest';
import { matrixFrom, serializeNetworkV2, toDense, type GeneralNetwork } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { gaussianPoints } from '@nnid/student-fit';
import { fitGeneralNetwork } from '@nnid/refine';
import { scoreGeneral, type ActivationSearchReport } from '@nnid/pipeline';
import { candidateWidths2, continueAfterPipeline, PAIR_REFIT_FROM, PAIR_SCREEN_KEEP, screenOrder } from '../src/method-auto.ts';
import { withoutUnit, type WidthEvidence } from '../src/widths.ts';

const tanh = { layer1: 'tanh', layer2: 'tanh' } as const;
const exact = (truth: GeneralNetwork, net: GeneralNetwork) => scoreGeneral(truth, net, { points: 2000 }).function.gaussian.relativeL2 <= 1e-8;

/** A failed pipeline's evidence: m1 = `at` tried and failing, nothing established. */
const evidence = (at: number, residual: number): WidthEvidence => ({
  width1Gap: null,
  width2Gap: null,
  prunedByRefinement: 0,
  residuals: [],
  byWidth2: [{ width2: at, attempts: 3, bestResidual: residual }],
  established: { width1: true, width2: false, why: `m1 not established: no network passed the check, m1 = ${at} is the best failed attempt's` },
});

/** The continuation cases' black box: a (6, m0, 2) tanh network (m0 = 4 unless told) and 400 answers in hand at Gaussian points. */
function tanhCase(width1 = 4) {
  const truth = randomGeneralNetwork({ inputDim: 6, width1, width2: 2, outputs: 1, activation: tanh, seed: 1 });
  const n = 400;
  const inputs = matrixFrom(gaussianPoints(n, 6, 7), n, 6);
  const answers = { inputs, values: toDense(evaluateGeneral(truth, inputs)).data };
  return { truth, inputs, answers };
}

/** continueAfterPipeline on that black box: the pipeline's failed network (residual 1e-2) and its evidence at m1 = `at`, widths inferred. */
function continueOn(c: ReturnType<typeof tanhCase>, wrong: GeneralNetwork, at: number, o: { search?: ActivationSearchReport; threads: number; fitStarts: number; fitPairs: number; fullFitFrom?: number }) {
  const oracle = createOracle(generalBlackBox(c.truth));
  const cont = continueAfterPipeline({
    source: oracle,
    outputs: 1,
    general: true,
    network: wrong,
    residual: 1e-2,
    search: o.search,
    answers: c.answers,
    left: Infinity,
    threshold: 1e-9,
    given: { width1: true, width2: false },
    evidence: evidence(at, 1e-2),
    seed: 1,
    threads: o.threads,
    fitStarts: o.fitStarts,
    fitDataFactor: 5,
    fitPairs: o.fitPairs,
    warmStart: true,
    counts: () => oracle.counts(),
    ...(o.fullFitFrom !== undefined ? { fullFitFrom: o.fullFitFrom } : {}),
  });
  return { oracle, cont };
}

describe("method 'auto': the fit over candidate widths after a failed pipeline", () => {
  it('candidateWidths2: a given or established m1 alone; else the pipeline\'s m1 by their residual, then the rest nearest first', () => {
    expect(candidateWidths2(2, 6, true).map((w) => w.width2)).toEqual([2]);
    expect(candidateWidths2(2, 6, false, { ...evidence(2, 1e-2), established: { width1: true, width2: true, why: '' } }).map((w) => w.width2)).toEqual([2]);
    const ev = { ...evidence(2, 1e-1), byWidth2: [{ width2: 1, attempts: 2, bestResidual: 3e-1 }, { width2: 2, attempts: 4, bestResidual: 1e-1 }, { width2: 3, attempts: 1, bestResidual: 2e-1 }] };
    const ws = candidateWidths2(2, 6, false, ev);
    expect(ws.map((w) => w.width2)).toEqual([2, 3, 1, 4, 5, 6]);
    expect(ws[0].why).toBe("m1 = 2: the pipeline's best failed residual 1.0e-1 (4 attempts)");
    expect(candidateWidths2(3, 4, false).map((w) => w.width2)).toEqual([3, 4, 2, 1]);
  });

  it('screenOrder: rounds of one candidate per pair, each pair\'s best first, within a round by residual', () => {
    const c = (layer1: string, width2: number, residual: number) => ({ x: { pair: { layer1: layer1 as 'tanh', layer2: 'tanh' as const }, width2 }, residual });
    const order = screenOrder([c('arctan', 6, 1e-2), c('arctan', 7, 2e-2), c('tanh', 2, 1e-1), c('arctan', 5, 3e-2), c('tanh', 4, 5e-2)]);
    expect(order.map((o) => `${o.x.pair.layer1} ${o.x.width2} ${o.round}`)).toEqual(['arctan 6 0', 'tanh 4 0', 'arctan 7 1', 'tanh 2 1', 'arctan 5 2']);
  });

  it('m1 = 1 handed over for a true 2 (widths evidence at 1): every m1 <= m0 screened from the answers in hand, no query; the true m1 found and exact; the same bits on 1 and 2 threads', async () => {
    const c = tanhCase();
    const { truth, inputs, answers } = c;
    // the pipeline's network: the truth without second-layer unit 1, refitted (its best at m1 = 1)
    const wrong = (await fitGeneralNetwork(withoutUnit(truth, 2, 1, inputs), answers, { maxIterations: 50 })).network;
    const run = async (threads: number) => {
      const { oracle, cont } = continueOn(c, wrong, 1, { threads, fitStarts: 6, fitPairs: 3 });
      return { cont: await cont, paid: oracle.counts().paid };
    };
    const { cont, paid } = await run(2);
    // the path: one screen per m1 in 1..4 (the evidence's m1 first), then full fits, the last one passing
    const screens = cont.tried.filter((t) => t.stage === 'screen');
    expect(screens.map((t) => t.widths!.width2)).toEqual([1, 2, 3, 4].slice(0, screens.length));
    expect(screens.length + cont.tried.filter((t) => t.stage === 'full').length).toBe(cont.tried.length);
    expect(cont.tried.filter((t) => t.stage === 'full').length).toBeLessThanOrEqual(screens.length);
    expect(screens[0].why).toContain("m1 = 1: the pipeline's best failed residual 1.0e-2 (3 attempts)");
    expect(screens[0].warmStart).toBeDefined();
    const last = cont.tried[cont.tried.length - 1];
    expect(last.passed).toBe(true);
    expect(cont.tried.slice(0, -1).every((t) => !t.passed)).toBe(true);
    // every point was in hand: nothing paid
    expect(paid).toBe(0);
    expect(cont.tried.every((t) => t.queries.paid === 0)).toBe(true);
    const net = cont.fit!.network as GeneralNetwork;
    expect(net.width2).toBe(2);
    if (last.widths!.width2 > 2) expect(last.shrunk).toMatchObject({ from: last.widths!.width2, to: 2 });
    expect(cont.fit!.report.check.relativeResidual).toBeLessThanOrEqual(1e-9);
    expect(exact(truth, net)).toBe(true);
    const one = await run(1);
    expect(serializeNetworkV2(one.cont.fit!.network as GeneralNetwork)).toEqual(serializeNetworkV2(net));
  });

  it('the true pair not handed on (the search ranked arctan/arctan first): the pair screen of the search\'s other pairs at the pipeline\'s m1 finds it; exact', async () => {
    const c0 = tanhCase();
    const { truth, answers } = c0;
    // the pipeline's network: the truth refitted as arctan/arctan (its check failed)
    const arctan = { layer1: 'arctan', layer2: 'arctan' } as const;
    const wrong = (await fitGeneralNetwork({ ...truth, activation: arctan }, answers, { maxIterations: 50 })).network;
    const c = (layer1: string, layer2: string, screen: number, full: number | null) => ({ layer1, layer2, screenResidual: screen, relativeResidual: full, passed: full === null ? null : false });
    const search = { candidates: [c('arctan', 'arctan', 1e-3, 1e-2), c('gelu', 'silu', 2e-3, null), c('tanh', 'tanh', 3e-3, null), c('softplus', 'tanh', 4e-3, null)] } as unknown as ActivationSearchReport;
    const run = continueOn(c0, wrong, 2, { search, threads: 2, fitStarts: 1, fitPairs: 1 });
    const { oracle } = run;
    const cont = await run.cont;
    const pairOf = (t: { activation?: { layer1: string; layer2: string } }) => `${t.activation!.layer1}/${t.activation!.layer2}`;
    const screens = cont.tried.filter((t) => t.stage === 'screen');
    // the handed-on pair at every m1 first, screened and fitted in full (none passes), then the other pairs at the pipeline's m1, in the search's order
    expect(screens.slice(0, 4).map((t) => [pairOf(t), t.widths!.width2])).toEqual([['arctan/arctan', 2], ['arctan/arctan', 3], ['arctan/arctan', 1], ['arctan/arctan', 4]]);
    expect(screens.slice(0, 4).every((t) => !t.passed)).toBe(true);
    const pairScreen = screens.slice(4).filter((t) => t.why.includes('pair screen ('));
    expect(pairScreen.length).toBeGreaterThanOrEqual(1);
    expect(pairScreen.map(pairOf)).toEqual(['gelu/silu', 'tanh/tanh', 'softplus/tanh'].slice(0, pairScreen.length));
    expect(pairScreen.every((t) => t.widths!.width2 === 2)).toBe(true);
    // the refits: from the pair screen's best PAIR_REFIT_FROM networks into pairs one layer away, no random start
    const refits = screens.filter((t) => t.why.includes("pair screen's refit"));
    const sources = [...pairScreen].sort((a, b) => a.relativeResidual! - b.relativeResidual!).slice(0, PAIR_REFIT_FROM).map(pairOf);
    for (const t of refits) {
      const [l1, l2] = pairOf(t).split('/');
      expect(sources.some((p) => { const [s1, s2] = p.split('/'); return (s1 === l1) !== (s2 === l2); })).toBe(true);
    }
    // the pair screen's best (by their screen or a refit) join the screen at the other m1 and the full fits; at most PAIR_SCREEN_KEEP of them
    const kept = new Set(screens.slice(4 + pairScreen.length + refits.length).map(pairOf));
    expect(kept.size).toBeLessThanOrEqual(PAIR_SCREEN_KEEP);
    for (const p of kept) expect(pairScreen.map(pairOf)).toContain(p);
    for (const t of cont.tried.filter((t) => t.stage === 'full')) expect(['arctan/arctan', ...kept]).toContain(pairOf(t));
    const last = cont.tried[cont.tried.length - 1];
    expect(last.passed).toBe(true);
    expect(pairOf(last)).toBe('tanh/tanh');
    expect(oracle.counts().paid).toBe(0);
    expect(cont.fit!.report.check.relativeResidual).toBeLessThanOrEqual(1e-9);
    expect(exact(truth, cont.fit!.network as GeneralNetwork)).toBe(true);
  });

  it("no pair passes (the pipeline's m0 one short of the truth's): the pair screen's best networks refitted into the pairs one layer away; the pairs handed on the best by their screen or a refit", async () => {
    const c = tanhCase(5);
    const arctan = { layer1: 'arctan', layer2: 'arctan' } as const;
    const wrong = (await fitGeneralNetwork({ ...withoutUnit(c.truth, 1, 0, c.inputs), activation: arctan }, c.answers, { maxIterations: 50 })).network;
    const p = (layer1: string, layer2: string, screen: number, full: number | null) => ({ layer1, layer2, screenResidual: screen, relativeResidual: full, passed: full === null ? null : false });
    const search = { candidates: [p('arctan', 'arctan', 1e-3, 1e-2), p('gelu', 'silu', 2e-3, null), p('tanh', 'tanh', 3e-3, null), p('softplus', 'tanh', 4e-3, null), p('tanh', 'silu', 5e-3, null)] } as unknown as ActivationSearchReport;
    const { oracle, cont: running } = continueOn(c, wrong, 2, { search, threads: 2, fitStarts: 1, fitPairs: 1 });
    const cont = await running;
    const pairOf = (t: { activation?: { layer1: string; layer2: string } }) => `${t.activation!.layer1}/${t.activation!.layer2}`;
    expect(cont.tried.every((t) => !t.passed)).toBe(true);
    const screens = cont.tried.filter((t) => t.stage === 'screen');
    const pairScreen = screens.filter((t) => t.why.includes('pair screen ('));
    expect(pairScreen.map(pairOf)).toEqual(['gelu/silu', 'tanh/tanh', 'softplus/tanh', 'tanh/silu']);
    // the refits: from the pair screen's best PAIR_REFIT_FROM, each into every screened pair one layer away, on the answers in hand
    const sources = [...pairScreen].sort((a, b) => a.relativeResidual! - b.relativeResidual!).slice(0, PAIR_REFIT_FROM).map(pairOf);
    const away = (a: string, b: string) => {
      const [a1, a2] = a.split('/');
      const [b1, b2] = b.split('/');
      return (a1 === b1) !== (a2 === b2);
    };
    const refits = screens.filter((t) => t.why.includes("pair screen's refit"));
    const expected = sources.flatMap((s) => pairScreen.map(pairOf).filter((q) => away(s, q)).map((q) => `${q} from ${s}`));
    expect(refits.map((t) => `${pairOf(t)} from ${/from the (\S+) screen's network/.exec(t.why)![1]}`)).toEqual(expected);
    expect(refits.length).toBeGreaterThan(0);
    expect(refits.every((t) => t.widths!.width2 === 2 && t.queries.paid === 0)).toBe(true);
    // handed on: the PAIR_SCREEN_KEEP best pairs by the best of their screen and the refits into them
    const best = new Map<string, number>();
    for (const t of [...pairScreen, ...refits]) best.set(pairOf(t), Math.min(best.get(pairOf(t)) ?? Infinity, t.relativeResidual!));
    const top = [...best.entries()].sort((a, b) => a[1] - b[1]).slice(0, PAIR_SCREEN_KEEP).map(([q]) => q);
    const after = screens.slice(screens.indexOf(refits[refits.length - 1]) + 1);
    expect(new Set(after.map(pairOf))).toEqual(new Set(top));
    expect(oracle.counts().paid).toBe(0);
  });

  it('fullFitFrom: a screened candidate is fitted in full only when its screen came within it; the others are reported skipped, with why', async () => {
    const c = tanhCase(5);
    const arctan = { layer1: 'arctan', layer2: 'arctan' } as const;
    const wrong = (await fitGeneralNetwork({ ...withoutUnit(c.truth, 1, 0, c.inputs), activation: arctan }, c.answers, { maxIterations: 50 })).network;
    const p = (layer1: string, layer2: string, screen: number, full: number | null) => ({ layer1, layer2, screenResidual: screen, relativeResidual: full, passed: full === null ? null : false });
    const search = { candidates: [p('arctan', 'arctan', 1e-3, 1e-2), p('gelu', 'silu', 2e-3, null), p('tanh', 'tanh', 3e-3, null)] } as unknown as ActivationSearchReport;
    // the pipeline's m0 one short: no fit passes; a bound below every screen's residual leaves no full fit
    const bound = 1e-12;
    const { oracle, cont: running } = continueOn(c, wrong, 2, { search, threads: 1, fitStarts: 1, fitPairs: 1, fullFitFrom: bound });
    const cont = await running;
    const pairOf = (t: { activation?: { layer1: string; layer2: string } }) => `${t.activation!.layer1}/${t.activation!.layer2}`;
    expect(cont.tried.every((t) => !t.passed)).toBe(true);
    const screens = cont.tried.filter((t) => t.stage === 'screen');
    expect(screens.every((t) => t.relativeResidual! > bound)).toBe(true);
    // the handed-on pair at every m1 <= 4, then the pair screen and its best at the other m1: every one screened
    expect(screens.slice(0, 4).map((t) => t.widths!.width2).sort()).toEqual([1, 2, 3, 4]);
    expect(screens.some((t) => t.why.includes('pair screen ('))).toBe(true);
    // no full fit ran (none from a screen, none refitted from a full fit); what was skipped is said, with why
    const full = cont.tried.filter((t) => t.stage === 'full');
    expect(full.every((t) => t.relativeResidual === null && t.why.startsWith('not run: '))).toBe(true);
    const far = full.filter((t) => t.why.includes(`their screens came to more than fullFitFrom ${bound} (FULL_FIT_FROM: full fits from that far have not passed)`));
    expect(far.length).toBe(2);
    // the first: the handed-on pair's screens, every m1 named
    for (const m1 of [1, 2, 3, 4]) expect(far[0].why).toContain(`arctan/arctan widths (4, ${m1})`);
    // the second: the pair screen's best, handed on, at their widths
    const handedOn = new Set(screens.filter((t) => t.why.includes("screen of the pair screen's best")).map(pairOf));
    expect(handedOn.size).toBeGreaterThanOrEqual(1);
    for (const q of handedOn) expect(far[1].why).toContain(q);
    expect(oracle.counts().paid).toBe(0);
  });
});
