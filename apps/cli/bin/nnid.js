#!/usr/bin/env node
// The sources are TypeScript run through tsx: no build step between an edit and a run.
import { register } from 'tsx/esm/api';

register();
// `nnid ... | head` closes stdout early: stop quietly instead of printing an EPIPE stack
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
