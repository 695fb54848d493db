// Draws bench/scale.ts's figures: one panel per measure (convergence, CPU, RSS) against the
// number of sets, one line per contender. Vega (pure JavaScript) renders the SVG; resvg
// (WebAssembly, one package for every platform) rasterizes it to PNG with DejaVu Sans from npm,
// so the picture is the same on every machine and needs no system fonts or native modules.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as vega from 'vega';
import { Resvg, initWasm } from '@resvg/resvg-wasm';

export interface Series {
  contender: string;
  n: number;
  value: number;
}
export interface Panel {
  title: string;
  unit: string;
  points: Series[];
}

const COLORS: Record<string, string> = { ours: '#d62728', peer: '#1f77b4', floor: '#7f7f7f' };
const PANEL = { width: 300, height: 220 };

function panelSpec(panel: Panel, index: number, contenders: string[]): vega.GroupMark {
  const data = `d${index}`;
  return {
    type: 'group',
    title: { text: panel.title, fontSize: 13, anchor: 'start' },
    encode: { update: { width: { value: PANEL.width }, height: { value: PANEL.height } } },
    data: [{ name: data, values: panel.points.filter((p) => Number.isFinite(p.value)) }],
    scales: [
      { name: 'x', type: 'log', base: 2, domain: { data, field: 'n' }, range: [0, PANEL.width], nice: false, zero: false },
      { name: 'y', type: 'linear', domain: { data, field: 'value' }, range: [PANEL.height, 0], nice: true, zero: true },
      { name: 'color', type: 'ordinal', domain: contenders, range: contenders.map((c) => COLORS[c] ?? '#2ca02c') },
    ],
    axes: [
      {
        orient: 'bottom',
        scale: 'x',
        title: 'SpicepodSets',
        values: [...new Set(panel.points.map((p) => p.n))].sort((a, b) => a - b),
        format: 'd',
      },
      { orient: 'left', scale: 'y', title: panel.unit, grid: true, gridOpacity: 0.3 },
    ],
    legends:
      index === 0 ? [{ fill: 'color', stroke: 'color', title: null, orient: 'top-left', symbolType: 'stroke', symbolStrokeWidth: 3 }] : [],
    marks: [
      {
        type: 'group',
        from: { facet: { name: `${data}-by`, data, groupby: 'contender' } },
        marks: [
          {
            type: 'line',
            from: { data: `${data}-by` },
            sort: { field: 'datum.n' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'n' },
                y: { scale: 'y', field: 'value' },
                stroke: { scale: 'color', field: 'contender' },
                strokeWidth: { value: 2.5 },
              },
            },
          },
          {
            type: 'symbol',
            from: { data: `${data}-by` },
            encode: {
              enter: {
                x: { scale: 'x', field: 'n' },
                y: { scale: 'y', field: 'value' },
                fill: { scale: 'color', field: 'contender' },
                size: { value: 40 },
              },
            },
          },
        ],
      },
    ],
  } as unknown as vega.GroupMark;
}

/** bench/scale.ts's title, in lines; `n` when the run had one size only. */
export function scaleTitle(n: number | undefined, shape: string): string[] {
  return [
    `${n === undefined ? '' : `N=${n}: `}SpicepodSets converged from empty (shape ${shape})`,
    'ours, a controller-runtime peer, the raw-client floor',
  ];
}

/**
 * The figure as SVG text. The title's lines are each kept short: without a canvas, Vega estimates
 * text widths generously, and one long line widened the figure by half its panels' width.
 */
export async function renderSvg(title: string | string[], panels: Panel[], contenders: string[]): Promise<string> {
  const spec: vega.Spec = {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    padding: 16,
    background: 'white',
    title: { text: title, fontSize: 15, anchor: 'start', offset: 12 },
    config: {
      text: { font: 'DejaVu Sans' },
      axis: { labelFont: 'DejaVu Sans', titleFont: 'DejaVu Sans' },
      legend: { labelFont: 'DejaVu Sans', labelFontSize: 12 },
      title: { font: 'DejaVu Sans' },
    },
    layout: { columns: panels.length === 4 ? 2 : panels.length, padding: 40 },
    marks: panels.map((p, i) => panelSpec(p, i, contenders)),
  } as vega.Spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  return view.toSVG();
}

let wasmReady: Promise<void> | undefined;
const require = createRequire(import.meta.url);

/** The SVG rasterized to PNG at `scale` times its size. */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  wasmReady ??= initWasm(readFileSync(require.resolve('@resvg/resvg-wasm/index_bg.wasm')));
  await wasmReady;
  const fonts = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => readFileSync(require.resolve(`dejavu-fonts-ttf/ttf/${f}`)));
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { fontBuffers: fonts, defaultFontFamily: 'DejaVu Sans', loadSystemFonts: false },
  });
  return resvg.render().asPng();
}
