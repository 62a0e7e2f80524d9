export { score, matchWeights, testPoints } from './score.ts';
export type { Score, ScoreOptions, WeightScore, FunctionError } from './score.ts';
export { hungarian } from './hungarian.ts';
