import { scaleBand, scaleLinear, scaleUtc } from 'd3-scale';
import { line, stack } from 'd3-shape';
import { html, type SafeHtml } from './html.js';

/*
 * Charts as server-rendered SVG: no script, no inline style (the console's CSP allows neither);
 * colours come from classes in the console's stylesheet, so light and dark mode both read. Each
 * chart is an <svg role="img"> with a title and a one-line description, a legend in words, and
 * the numbers it draws as a table behind it. d3-scale picks round axis ticks, d3-shape stacks the
 * bars and draws the lines: pure functions, no DOM.
 */

/** A colour role, a class in the stylesheet (`.c-ok`…). */
export type Tone = 'ok' | 'info' | 'warn' | 'bad' | 'muted' | 'alt';

export interface Series {
  label: string;
  tone: Tone;
  values: readonly number[];
}

export interface ChartSpec {
  /** Unique on the page: the ids of the title and description. */
  id: string;
  title: string;
  /** Bucket start times (ms), one per value. */
  starts: readonly number[];
  /** What a bucket is, for the table's header ("minute", "15 minutes"). */
  unit: string;
  /** The y axis's label. */
  yLabel: string;
  series: readonly Series[];
  /** A horizontal line at this value (a health threshold), with its label. */
  threshold?: { value: number; label: string };
  /** Values shown in the table and description as text (a duration). */
  format?: (v: number) => string;
  small?: boolean;
}

/** The drawing's width in its own units: a small chart is narrower, so its text keeps its size when scaled to its box. */
const widthOf = (spec: ChartSpec): number => (spec.small ? 360 : 640);
const M = { top: 24, right: 12, bottom: 26, left: 48 };

/** Stacked bars, one bar per bucket: counts. */
export function barChart(spec: ChartSpec): SafeHtml {
  const { h, x, y, xTicks } = frame(spec, Math.max(1, ...stackTops(spec.series)));
  const band = scaleBand<number>()
    .domain(spec.starts.map((_, i) => i))
    .range([M.left, widthOf(spec) - M.right])
    .paddingInner(0.15);
  return figure(spec, h, html`${axes(spec, h, y, xTicks, x)}${stackedBars(spec.series, band, y)}${thresholdLine(spec, y)}`);
}

/** Lines, one point per bucket: levels such as lag. */
export function lineChart(spec: ChartSpec): SafeHtml {
  const top = Math.max(1, spec.threshold?.value ?? 0, ...spec.series.flatMap((s) => s.values));
  const { h, x, y, xTicks } = frame(spec, top);
  const step = stepOf(spec.starts);
  const path = line<number>()
    .x((_, i) => x(spec.starts[i]! + step / 2))
    .y((v) => y(v));
  const lines = spec.series.map((s) => html`<path class="line c-${s.tone}" d="${path([...s.values]) ?? ''}"/>`);
  return figure(spec, h, html`${axes(spec, h, y, xTicks, x)}${lines}${thresholdLine(spec, y)}`);
}

/**
 * A small bar chart in a table cell (a rule's matches over the last hour): its words beside it
 * say the same, so it carries no table of its own.
 */
export function sparkline(label: string, series: readonly Series[]): SafeHtml {
  const width = 120;
  const height = 24;
  const tops = stackTops(series);
  const x = scaleBand<number>()
    .domain(tops.map((_, i) => i))
    .range([0, width])
    .paddingInner(0.1);
  const y = scaleLinear()
    .domain([0, Math.max(1, ...tops)])
    .range([height, 0]);
  return html`<svg class="spark" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${label}"><title>${label}</title><line class="base" x1="0" x2="${width}" y1="${height - 0.5}" y2="${height - 0.5}"/>${stackedBars(series, x, y, 1)}</svg>`;
}

/** Each bucket's height with every series stacked. */
function stackTops(series: readonly Series[]): number[] {
  const n = series[0]?.values.length ?? 0;
  return Array.from({ length: n }, (_, i) => series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
}

/** The series stacked, a <g> of bars per series in its colour; a bar at least `minHeight` tall. */
function stackedBars(
  series: readonly Series[],
  x: ReturnType<typeof scaleBand<number>>,
  y: ReturnType<typeof scaleLinear<number, number>>,
  minHeight = 0,
): SafeHtml[] {
  const rows = (series[0]?.values ?? []).map((_, i) => Object.fromEntries(series.map((s, k) => [k, s.values[i] ?? 0])));
  const layers = stack<Record<string, number>>().keys(series.map((_, k) => String(k)))(rows);
  return layers.map(
    (layer, k) =>
      html`<g class="c-${series[k]!.tone}">${layer.map(([y0, y1], i) =>
        y1 > y0 ? html`<rect x="${r(x(i)!)}" y="${r(y(y1))}" width="${r(x.bandwidth())}" height="${r(Math.max(minHeight, y(y0) - y(y1)))}"/>` : '',
      )}</g>`,
  );
}

function frame(spec: ChartSpec, top: number) {
  const h = spec.small ? 150 : 190;
  const first = spec.starts[0] ?? 0;
  const x = scaleUtc()
    .domain([new Date(first), new Date(first + stepOf(spec.starts) * spec.starts.length)])
    .range([M.left, widthOf(spec) - M.right]);
  const y = scaleLinear()
    .domain([0, top])
    .nice(spec.small ? 2 : 4)
    .range([h - M.bottom, M.top]);
  return { h, x, y, xTicks: x.ticks(spec.small ? 3 : 6) };
}

function axes(
  spec: ChartSpec,
  h: number,
  y: ReturnType<typeof scaleLinear<number, number>>,
  xTicks: Date[],
  x: ReturnType<typeof scaleUtc<number, number>>,
): SafeHtml {
  const fmt = spec.format ?? compact;
  return html`<g class="axis">
<text class="ylabel" x="4" y="12">${spec.yLabel}</text>
${y.ticks(spec.small ? 2 : 4).map((t) => html`<line class="grid" x1="${M.left}" x2="${widthOf(spec) - M.right}" y1="${r(y(t))}" y2="${r(y(t))}"/><text x="${M.left - 4}" y="${r(y(t) + 4)}" text-anchor="end">${fmt(t)}</text>`)}
${xTicks.map((t) => html`<text x="${r(x(t))}" y="${h - 8}" text-anchor="middle">${t.toISOString().slice(11, 16)}</text>`)}
</g>`;
}

function thresholdLine(spec: ChartSpec, y: ReturnType<typeof scaleLinear<number, number>>): SafeHtml | string {
  if (!spec.threshold) return '';
  const at = r(y(spec.threshold.value));
  const right = widthOf(spec) - M.right;
  return html`<g class="threshold"><line x1="${M.left}" x2="${right}" y1="${at}" y2="${at}"/><text x="${right}" y="${at - 4}" text-anchor="end">${spec.threshold.label}</text></g>`;
}

function figure(spec: ChartSpec, h: number, body: SafeHtml): SafeHtml {
  const fmt = spec.format ?? String;
  const totals = spec.series.map((s) => {
    const peak = Math.max(0, ...s.values);
    return spec.format ? `${s.label}: highest ${fmt(peak)}` : `${s.label}: ${s.values.reduce((a, b) => a + b, 0)} in all, at most ${peak} per ${spec.unit}`;
  });
  const range = `${iso(spec.starts[0])} to ${iso((spec.starts.at(-1) ?? 0) + stepOf(spec.starts))} UTC`;
  return html`<figure class="chart${spec.small ? ' small' : ''}" id="${spec.id}">
<figcaption>${spec.title}</figcaption>
<ul class="legend">${spec.series.map((s) => html`<li><span class="swatch c-${s.tone}" aria-hidden="true"></span>${s.label}</li>`)}${spec.threshold ? html`<li><span class="swatch dashed" aria-hidden="true"></span>${spec.threshold.label}</li>` : ''}</ul>
<svg viewBox="0 0 ${widthOf(spec)} ${h}" role="img" aria-labelledby="${spec.id}-t" aria-describedby="${spec.id}-d"><title id="${spec.id}-t">${spec.title}</title><desc id="${spec.id}-d">${range}. ${totals.join('; ')}.</desc>${body}</svg>
<details><summary>Data table</summary>
<table class="data">
<caption>${spec.title}, per ${spec.unit} (UTC)</caption>
<thead><tr><th scope="col">From</th>${spec.series.map((s) => html`<th scope="col">${s.label}</th>`)}</tr></thead>
<tbody>${spec.starts.map((t, i) => html`<tr><th scope="row"><time datetime="${new Date(t).toISOString()}">${iso(t)}</time></th>${spec.series.map((s) => html`<td>${fmt(s.values[i] ?? 0)}</td>`)}</tr>`)}</tbody>
</table>
</details>
</figure>`;
}

const r = (v: number): number => Math.round(v * 10) / 10;
/** A bucket's length (ms): the distance between the first two starts, a minute for one bucket. */
const stepOf = (starts: readonly number[]): number => (starts.length > 1 ? starts[1]! - starts[0]! : 60_000);
const iso = (t: number | undefined): string => (t === undefined ? '' : new Date(t).toISOString().slice(0, 16).replace('T', ' '));

/** Axis numbers: 1.2k rather than 1200. */
function compact(v: number): string {
  return v >= 10_000 ? `${Math.round(v / 1000)}k` : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : String(v);
}
