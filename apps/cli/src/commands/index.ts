import type { Command } from '../cli.ts';

/**
 * Every command, by name. Each lives in its own file in this folder; add a line here to add one.
 * Loaded lazily so `nnid score` does not load onnxruntime.
 */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  generate: { summary: 'write a random network (nnid.network/v1) as in the paper', load: () => import('./generate.ts').then((m) => m.command) },
  sample: { summary: 'sample finite-difference Hessians of a network and print their spectrum', load: () => import('./sample.ts').then((m) => m.command) },
  serve: { summary: 'serve a network as an HTTP black box', load: () => import('./serve.ts').then((m) => m.command) },
  export: { summary: 'write a network as an ONNX model (float64)', load: () => import('./export.ts').then((m) => m.command) },
  convert: { summary: 'convert a network between nnid.network/v1, v2, ONNX and safetensors', load: () => import('./convert.ts').then((m) => m.command) },
  identify: { summary: 'identify the weights of a network from queries alone (the paper\'s pipeline, then refinement)', load: () => import('./identify.ts').then((m) => m.command) },
  score: { summary: 'compare a recovered network with the true one (weights and function errors)', load: () => import('./score.ts').then((m) => m.command) },
  sweep: { summary: 'identify over a grid of sizes, activations, shifts, noise and seeds (resumable)', load: () => import('./sweep.ts').then((m) => m.command) },
  worker: { summary: 'run the runs of sweeps enqueued on Redis (nnid sweep --queue), on any machine', load: () => import('./worker.ts').then((m) => m.command) },
  demo: { summary: 'identify a built-in default network and score the result', load: () => import('./demo.ts').then((m) => m.command) },
  report: { summary: 'write an HTML report with plots of a sweep (runs.jsonl) or of one identification (result.json)', load: () => import('./report.ts').then((m) => m.command) },
};
