// bench/plot.ts, the picture bench/scale.ts draws: four panels, one line per contender, and a
// title that does not make the figure wider than its panels.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Panel, renderSvg, scaleTitle, svgToPng } from '../../bench/plot.ts';

const CONTENDERS = ['ours', 'peer', 'floor'];
const panels: Panel[] = ['Convergence', 'CPU', 'Peak RSS', 'Settled RSS'].map((title, i) => ({
  title,
  unit: 'seconds',
  points: CONTENDERS.flatMap((contender, j) => [100, 200, 400, 800].map((n) => ({ contender, n, value: (n * (i + 1)) / (j + 1) }))),
}));
const widthOf = (svg: string) => Number(/<svg[^>]* width="(\d+)"/.exec(svg)?.[1]);

test("the figure is as wide as its panels with bench/scale.ts's title", async () => {
  const titled = await renderSvg(scaleTitle(undefined, 'replicas3'), panels, CONTENDERS);
  const untitled = await renderSvg('', panels, CONTENDERS);
  assert.ok(widthOf(untitled) > 0);
  assert.is(widthOf(titled), widthOf(untitled), 'a long title line widened the figure');
  assert.ok(titled.includes('SpicepodSets converged from empty (shape replicas3)'));
  assert.ok(scaleTitle(1000, 'paused')[0].startsWith('N=1000: '));
});

test('one line per contender in each panel, and a PNG', async () => {
  const svg = await renderSvg(scaleTitle(undefined, 'paused'), panels, CONTENDERS);
  // Each line mark is a <path> with four points (M, then three L) in the contender's colour; the
  // legend's strokes in the same colours are not line marks.
  const lines = [...svg.matchAll(/<g class="mark-line[^>]*><path d="M[^"]*" stroke="(#[0-9a-f]{6})"/g)];
  for (const color of ['#d62728', '#1f77b4', '#7f7f7f'])
    assert.is(lines.filter((m) => m[1] === color).length, panels.length, `${color}: a line in each panel`);
  const png = await svgToPng(svg, 1);
  assert.equal([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'PNG signature');
});

test.run();
