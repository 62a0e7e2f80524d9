import type { Command } from '../cli.ts';

/**
 * Every command, by name. Each lives in its own file in this folder; add a line here to add one.
 * Loaded lazily so `nnid score` does not load onnxruntime.
 */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {};
