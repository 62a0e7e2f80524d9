/** One sweep run inside a worker thread. */
import { runExperiment, type ExperimentRecord, type ExperimentSpec } from '@nnid/pipeline';

export default async function run(input: { spec: ExperimentSpec; scorePoints: number }): Promise<ExperimentRecord> {
  return runExperiment(input.spec, { scorePoints: input.scorePoints });
}
