/**
 * The demo's plot: accuracy vs number of networks for the glue and the two plain ensembles, drawn
 * with vega-lite (compiled to a vega view, rendered to SVG without a browser), and rasterized to
 * PNG with resvg when the file name ends in .png. The charting packages are optional: they are
 * loaded only here, with `import()` (vega and vega-lite are ES modules with top-level await), and
 * a missing one gives an error that says what to install.
 */
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { ErrorCode, HdglueError } from '../errors.js';
import type { DemoResult } from './experiment.js';

/** Write the accuracy-vs-networks chart of a demo run to `file` (.svg or .png). */
export async function writePlot(r: DemoResult, file: string): Promise<void> {
  const kind = extname(file).toLowerCase();
  if (kind !== '.svg' && kind !== '.png') {
    throw new HdglueError(ErrorCode.OUT_OF_RANGE, `${file}: the plot file must end in .svg or .png`);
  }
  const svg = await renderSvg(r);
  if (kind === '.svg') {
    writeFileSync(file, svg);
    return;
  }
  const { Resvg } = (await load('@resvg/resvg-js')) as typeof import('@resvg/resvg-js');
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, background: 'white' }).render().asPng();
  writeFileSync(file, png);
}

/** The chart as an SVG document. */
export async function renderSvg(r: DemoResult): Promise<string> {
  const vl = (await load('vega-lite')) as typeof import('vega-lite');
  const vega = (await load('vega')) as typeof import('vega');
  const series: [string, 'glue' | 'majority' | 'meanProbability'][] = [
    ['HD-Glue (default)', 'glue'],
    ['majority vote of the MLPs', 'majority'],
    ['mean probability of the MLPs', 'meanProbability'],
  ];
  const values = r.summary.curve.flatMap((c) =>
    series.map(([name, key]) => ({ networks: c.networks, accuracy: 100 * c[key].mean, series: name })),
  );
  const all = values.map((v) => v.accuracy);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `digits test accuracy vs number of networks (mean of ${r.runs.length} seed(s), D = ${r.config.recipe.dim})`,
    width: 520,
    height: 300,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'networks', type: 'quantitative', axis: { tickMinStep: 1, title: 'networks glued' } },
      y: {
        field: 'accuracy',
        type: 'quantitative',
        scale: { domain: [Math.floor(Math.min(...all) - 0.5), Math.ceil(Math.max(...all) + 0.5)] },
        axis: { title: 'test accuracy (%)' },
      },
      color: {
        field: 'series',
        type: 'nominal',
        legend: { orient: 'bottom', direction: 'vertical', title: null, labelLimit: 400 },
      },
    },
  };
  const compiled = vl.compile(spec as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

async function load(name: string): Promise<unknown> {
  try {
    return await import(name);
  } catch (e) {
    throw new HdglueError(
      ErrorCode.OUT_OF_RANGE,
      `--plot needs the optional package ${name}: npm install vega vega-lite @resvg/resvg-js`,
      { cause: e },
    );
  }
}
