/**
 * Vega-Lite to inline SVG, in Node, without a browser: compile the Vega-Lite spec to Vega, run a
 * headless Vega View (renderer 'none', no DOM, no canvas) and serialize its scene graph with
 * `View.toSVG()`. Every mark is drawn by Vega; nothing here writes an SVG path.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** The look shared by every plot: a font every browser has, readable sizes, no outer frame. */
const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  background: 'white',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/**
 * Renders a Vega-Lite spec (data inline) to an SVG string.
 *
 * @example
 * const svg = await renderSvg({ data: { values: [{ x: 1, y: 2 }] }, mark: 'point',
 *   encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } });
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const full = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const vega = compile(full).spec;
  const view = new View(parse(vega), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    // the SVG is inlined in HTML: let it shrink to the page (print) but never grow past its size
    return svg.replace(/^<svg /, '<svg style="max-width:100%;height:auto" ');
  } finally {
    view.finalize();
  }
}
