/**
 * The compile-time half of "adding an activation = one definition + the table rows the compiler
 * asks for": type-check the whole workspace with one more name in ACTIVATIONS (in memory) and
 * read the sites the compiler names (in the files that mention ActivationName). Each must be an exhaustive Record<ActivationName, ...>
 * missing its row (TS2741), and the known tables must be among them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const NEW_NAME = 'test_only_activation';
const activationFile = path.join(root, 'packages/core/src/activation.ts');

/** The tables that must ask for a row (more may: another package's own tables). */
const KNOWN_SITES = ['packages/core/src/activation.ts', 'packages/black-box/src/onnx-export.ts'];

function entryFiles(): string[] {
  const out: string[] = [];
  for (const dir of ['packages', 'apps']) {
    for (const name of readdirSync(path.join(root, dir))) {
      const src = path.join(root, dir, name, 'src');
      if (!existsSync(src)) continue;
      for (const f of readdirSync(src)) {
        const file = path.join(src, f);
        if (f.endsWith('.ts') && readFileSync(file, 'utf8').includes('ActivationName')) out.push(file);
      }
    }
  }
  return out;
}

it('a name added to ACTIVATIONS makes the compiler name every table that needs its row', () => {
  const base = ts.readConfigFile(path.join(root, 'tsconfig.base.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(base.config, ts.sys, root);
  const host = ts.createCompilerHost(options);
  const original = readFileSync(activationFile, 'utf8');
  const list = /export const ACTIVATIONS = \[([^\]]*)\] as const;/;
  expect(original).toMatch(list);
  const patched = original.replace(list, (_m, names: string) => `export const ACTIVATIONS = [${names}, '${NEW_NAME}'] as const;`);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) =>
    path.resolve(fileName) === activationFile
      ? ts.createSourceFile(fileName, patched, languageVersion, true)
      : getSourceFile(fileName, languageVersion, onError, shouldCreate);
  const program = ts.createProgram(entryFiles(), options, host);
  // a table keyed by the names names their type: check only the files that mention it (fast)
  const candidates = program.getSourceFiles().filter((f) => !f.fileName.includes('node_modules') && f.text.includes('ActivationName'));
  expect(candidates.length).toBeGreaterThan(KNOWN_SITES.length);
  const sites = candidates
    .flatMap((f) => program.getSemanticDiagnostics(f))
    .filter((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n').includes(NEW_NAME))
    .map((d) => {
      const file = path.relative(root, d.file?.fileName ?? '?');
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return { site: `${file}:${line}`, file, code: d.code };
    });
  console.log(`sites that ask for a row for a new activation:\n  ${sites.map((s) => s.site).join('\n  ')}`);
  for (const known of KNOWN_SITES) expect(sites.map((s) => s.file)).toContain(known);
  // every site is a table missing its row, not a name compared somewhere
  for (const s of sites) expect([s.site, s.code]).toEqual([s.site, 2741]);
});
