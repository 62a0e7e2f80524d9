/**
 * `nnid <command> [options]`. Exit codes: 0 success, 1 failure during the work, 2 bad input.
 */
import { describeError, parseCommandArgs, type CommandIo } from './cli.ts';
import { COMMANDS } from './commands/index.ts';

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length), 8);
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'nnid — identify the weights of a two-hidden-layer network from queries alone',
    '',
    'usage: nnid <command> [options]     (nnid <command> --help for its options)',
    '',
    'commands:',
    ...lines,
    '',
    'exit codes: 0 done, 1 the work failed, 2 bad input (one line says what is wrong)',
    'the model, the stages, the file formats and how results are measured: docs/DESIGN.md',
  ].join('\n');
}

export async function main(argv: string[], io: CommandIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name ? 0 : 2;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.err(`nnid: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return 2;
  }
  try {
    const command = await entry.load();
    const values = parseCommandArgs(command, rest);
    if (values.help) {
      io.out(command.help);
      return 0;
    }
    const code = await command.run(values, io);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    const { line, code } = describeError(e);
    io.err(`nnid ${name}: ${line}`);
    return code;
  }
}
