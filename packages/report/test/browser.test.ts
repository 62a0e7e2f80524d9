/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The reports in a real browser: headless Chromium (Debian's `chromium`, or NNID_CHROMIUM) driven
 * by playwright-core, no browser download. Each page must load with no console error and no
 * request beyond its own file, every plot must have drawn marks with a size, a screenshot of each
 * plot must not be blank, and the page must print to PDF. Skipped, with the reason printed, only
 * where no Chromium can be had. Set NNID_REPORT_SCREENSHOTS=DIR to keep the screenshots.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { readNetworkFile } from '@nnid/core';
import { runReport, sweepReport, type RunResultInput, type SweepRecordInput } from '../src/index.ts';

const executable = process.env.NNID_CHROMIUM ?? '/usr/bin/chromium';
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const keep = process.env.NNID_REPORT_SCREENSHOTS;

let browser: Browser | null = null;
let skipReason: string | null = existsSync(executable) ? null : `no Chromium at ${executable} (apt-get install chromium, or set NNID_CHROMIUM)`;
const dir = mkdtempSync(join(tmpdir(), 'nnid-report-browser-'));

beforeAll(async () => {
  if (skipReason) return;
  try {
    browser = await chromium.launch({ executablePath: executable, args: ['--no-sandbox', '--disable-gpu'], headless: true });
  } catch (e) {
    skipReason = `Chromium at ${executable} does not start: ${(e as Error).message.split('\n')[0]}`;
  }
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface PlotCheck {
  marks: number;
  sizedMarks: number;
  width: number;
  height: number;
}

/** Opens the page and checks it as a reader's browser would show it. */
async function openAndCheck(html: string, name: string) {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, html);
  const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  // every plot: Vega's mark groups and how many of their drawn elements have a size on screen
  const plots: PlotCheck[] = await page.$$eval('.plot > svg', (svgs) =>
    svgs.map((svg) => {
      const drawn = [...svg.querySelectorAll('g.role-mark > path, g.role-mark > rect, g.role-mark > text, g.role-mark > line, g.role-mark > g > path')];
      const sized = drawn.filter((el) => {
        const b = (el as SVGGraphicsElement).getBoundingClientRect();
        return b.width > 0 || b.height > 0;
      });
      const box = svg.getBoundingClientRect();
      return { marks: drawn.length, sizedMarks: sized.length, width: box.width, height: box.height };
    }),
  );
  // distinct colours of each plot's screenshot, counted by the browser itself from the PNG
  const colours: number[] = [];
  const shots = await page.$$('.plot > svg');
  for (let i = 0; i < shots.length; i++) {
    const png = await shots[i].screenshot();
    if (keep) {
      mkdirSync(keep, { recursive: true });
      writeFileSync(join(keep, `${name}-plot${i + 1}.png`), png);
    }
    colours.push(await countColours(png));
  }
  const full = await page.screenshot({ fullPage: true });
  if (keep) writeFileSync(join(keep, `${name}-page.png`), full);
  const pageColours = await countColours(full);
  await page.emulateMedia({ media: 'print' });
  const pdf = await page.pdf({ format: 'A4', printBackground: true });
  await page.close();
  return { problems, requests: requests.filter((r) => r !== url), plots, colours, pageColours, pdf };
}

/** Decodes a PNG in a blank page's canvas and counts its distinct RGBA colours. */
async function countColours(png: Buffer): Promise<number> {
  const page = await browser!.newPage();
  try {
    return await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4) seen.add(((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]) * 256 + data[i + 3]);
      return seen.size;
    }, png.toString('base64'));
  } finally {
    await page.close();
  }
}

function expectReadable(r: Awaited<ReturnType<typeof openAndCheck>>, plotCount: number): void {
  expect(r.problems).toEqual([]);
  expect(r.requests).toEqual([]);
  expect(r.plots).toHaveLength(plotCount);
  for (const p of r.plots) {
    expect(p.marks).toBeGreaterThan(0);
    expect(p.sizedMarks).toBeGreaterThan(0);
    expect(p.width).toBeGreaterThan(200);
    expect(p.height).toBeGreaterThan(100);
  }
  // a blank or single-colour plot has 1-2 colours; text, marks and anti-aliasing give hundreds
  for (const c of r.colours) expect(c).toBeGreaterThan(50);
  expect(r.pageColours).toBeGreaterThan(200);
  expect(r.pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  expect(r.pdf.length).toBeGreaterThan(20_000);
}

describe('reports in headless Chromium', () => {
  it('a sweep report loads offline, without console errors, and every plot has drawn marks', async (ctx) => {
    if (skipReason || !browser) {
      console.log(`browser test skipped: ${skipReason}`);
      ctx.skip();
      return;
    }
    const records: SweepRecordInput[] = readFileSync(fixture('sweep-d10-d12-noise-norefine.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const r = await openAndCheck(await sweepReport(records, { source: 'sweep-d10-d12-noise-norefine.jsonl' }), 'sweep');
    expectReadable(r, 3);
  });

  it('a single-run report loads offline, without console errors, and every plot has drawn marks', async (ctx) => {
    if (skipReason || !browser) {
      console.log(`browser test skipped: ${skipReason}`);
      ctx.skip();
      return;
    }
    const result: RunResultInput = JSON.parse(readFileSync(fixture('result-d20-m10-m3-tanh-seed1.json'), 'utf8'));
    const truth = readNetworkFile(fixture('net-d20-m10-m3-tanh-seed1.json'));
    const r = await openAndCheck(await runReport(result, { truth, points: 2000, source: 'result-d20-m10-m3-tanh-seed1.json' }), 'run');
    expectReadable(r, 4);
  });
});
