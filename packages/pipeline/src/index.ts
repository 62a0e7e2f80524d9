export { score, matchWeights, testPoints } from './score.ts';
export type { Score, ScoreOptions, WeightScore, FunctionError } from './score.ts';
export { hungarian } from './hungarian.ts';
export { identify } from './identify.ts';
export type {
  IdentifyOptions,
  IdentifyResult,
  IdentifyReport,
  IdentifyProgress,
  IdentifyStage,
  AttemptReport,
  CandidateReport,
  StageQueries,
} from './identify.ts';
export { runExperiment, experimentId } from './experiment.ts';
export type { ExperimentSpec, ExperimentRecord } from './experiment.ts';
