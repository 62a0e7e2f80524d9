/**
 * The small frame every command stands in: option parsing through node:util's parseArgs,
 * `--help`, and the rule that bad input exits with code 2 and one line naming what is wrong.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { NnidError, invalidArgument } from '@nnid/core';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Full help text shown by `nnid <name> --help`. */
  readonly help: string;
  readonly options: OptionSpec;
  /** The name under which one positional argument is stored in the values (`nnid report FILE`); none accepted without it. */
  readonly positional?: string;
  run(values: Values, io: CommandIo): Promise<number | void>;
}

export interface CommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** A user error: exit code 2, one line. */
export class UsageError extends Error {}

export function parseCommandArgs(command: Command, argv: string[]): Values {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const accepted = command.positional ? 1 : 0;
    if (positionals.length > accepted && !values.help) {
      throw new UsageError(`unexpected argument '${positionals[accepted]}' (see nnid ${command.name} --help)`);
    }
    if (command.positional && positionals.length) (values as Values)[command.positional] = positionals[0];
    return values as Values;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const msg = (e as Error).message.split('\n')[0];
    throw new UsageError(`${msg} (see nnid ${command.name} --help)`);
  }
}

/** Reads an integer option; `undefined` when absent and no default. */
export function intOption(values: Values, name: string, fallback?: number, min = 1): number {
  const raw = values[name];
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`missing required option --${name}`);
    return fallback;
  }
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${String(raw)}'`);
  }
  return n;
}

export function optionalInt(values: Values, name: string, min = 1): number | undefined {
  return values[name] === undefined ? undefined : intOption(values, name, undefined, min);
}

/** Reads a finite number option. */
export function numberOption(values: Values, name: string, fallback?: number, min = -Infinity): number {
  const raw = values[name];
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`missing required option --${name}`);
    return fallback;
  }
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < min) {
    throw new UsageError(`--${name} must be a number${min > -Infinity ? ` >= ${min}` : ''}, got '${String(raw)}'`);
  }
  return n;
}

export function stringOption(values: Values, name: string, fallback?: string): string {
  const raw = values[name];
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`missing required option --${name}`);
    return fallback;
  }
  return String(raw);
}

/** Turns any error into the one line and exit code the CLI prints. */
export function describeError(e: unknown): { line: string; code: number } {
  if (e instanceof UsageError) return { line: e.message, code: 2 };
  if (e instanceof NnidError) {
    const bad = e.code === 'E_INVALID_ARGUMENT' || e.code === 'E_NETWORK_FORMAT' || e.code === 'E_FILE_READ' || e.code === 'E_DIMENSION_MISMATCH';
    return { line: `${e.message} [${e.code}]`, code: bad ? 2 : 1 };
  }
  if (e instanceof AggregateError) {
    return { line: `${e.message}: ${e.errors.map((x) => (x as Error).message).join('; ')}`, code: 1 };
  }
  if (e instanceof RangeError && /allocation failed|Invalid typed array length|Invalid array length|Invalid string length|Array buffer/i.test(e.message)) {
    return { line: `not enough memory for this work (${e.message}): try smaller sizes or counts`, code: 2 };
  }
  const errno = e as NodeJS.ErrnoException;
  if (errno && typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    return { line: `${errno.syscall}${errno.path ? ` ${errno.path}` : ''} failed: ${errno.code}`, code: errno.code === 'ENOSPC' || errno.code === 'EROFS' || errno.code === 'EACCES' ? 2 : 1 };
  }
  return { line: (e as Error)?.stack ?? String(e), code: 1 };
}

export { invalidArgument };
