/**
 * The HTML around the plots: one self-contained page (styles inline, no script, no external
 * resource), tables of the plotted numbers, and number formats that read the same everywhere.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A number in a table: integers as they are, others to 3 significant digits; n/a for none. */
export function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(digits - 1);
  return String(Number(x.toPrecision(digits)));
}

/** Always in exponent form: residuals, gaps to 1. */
export function sci(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  return x.toExponential(digits - 1);
}

/** A cell: plain text (escaped), a number (formatted), `{ n }` preformatted figures (right-aligned) or `{ html }` already safe. */
export type Cell = string | number | { n: string } | { html: string };

function cell(c: Cell): string {
  if (typeof c === 'number') return `<td class="n">${escapeHtml(num(c))}</td>`;
  if (typeof c === 'string') return `<td>${escapeHtml(c)}</td>`;
  if ('n' in c) return `<td class="n">${escapeHtml(c.n)}</td>`;
  return `<td>${c.html}</td>`;
}

export function table(head: string[], rows: Cell[][], caption?: string): string {
  return [
    '<table>',
    caption ? `<caption>${escapeHtml(caption)}</caption>` : '',
    `<thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

/** A plot with its caption and the table of its numbers below it. */
export function figure(id: string, title: string, svg: string, caption: string, numbers: string): string {
  return [
    `<section class="figure" id="${escapeHtml(id)}">`,
    `<h2>${escapeHtml(title)}</h2>`,
    `<figure><div class="plot">${svg}</div><figcaption>${caption}</figcaption></figure>`,
    `<div class="numbers">${numbers}</div>`,
    '</section>',
  ].join('\n');
}

/** A section without a plot: what is missing, said in words. */
export function note(id: string, title: string, html: string): string {
  return `<section class="figure" id="${escapeHtml(id)}"><h2>${escapeHtml(title)}</h2><p>${html}</p></section>`;
}

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 Helvetica, Arial, sans-serif; color: #222; background: #fff; margin: 0 auto; padding: 24px; max-width: 1100px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 3px; }
p.meta { color: #555; margin: 0 0 12px; }
.verdict { padding: 10px 14px; border-radius: 4px; margin: 12px 0; border: 1px solid; }
.verdict.pass { background: #eef8ee; border-color: #7bb37b; }
.verdict.fail { background: #fbeeee; border-color: #c77; }
.verdict.none { background: #f4f4f4; border-color: #bbb; }
figure { margin: 0; }
.plot { overflow-x: auto; }
figcaption { color: #444; font-size: 13px; margin: 4px 0 8px; }
table { border-collapse: collapse; font-size: 12px; margin: 6px 0 12px; }
caption { text-align: left; font-weight: bold; padding: 2px 0 4px; }
th, td { border: 1px solid #ccc; padding: 2px 7px; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
details.numbers-more summary { cursor: pointer; color: #335; }
ul { margin: 4px 0 12px; padding-left: 22px; }
code { font-size: 12px; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  section.figure { break-inside: avoid-page; }
  .plot { overflow: visible; }
  table { break-inside: auto; }
  tr { break-inside: avoid; }
  details > * { display: block; }
}
`;

/** The whole page. `body` is already HTML. */
export function page(title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
