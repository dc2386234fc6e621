import { FLOW_SERIES, type FlowSeries } from '../../../store/types.js';
import { barChart, lineChart, type Series } from '../charts.js';
import { sum, WINDOWS, type FlowFrame, type Window } from '../flow-frame.js';
import { html, time, type SafeHtml } from '../html.js';
import { badge } from '../layout.js';
import type { DestinationState } from '../../../delivery/destinations.js';

/** The series the overview reads: all but the per-rule ones (the rules page reads those). */
export const OVERVIEW_SERIES: FlowSeries[] = FLOW_SERIES.filter((series) => !series.startsWith('rule.'));

export interface OverviewInput {
  frame: FlowFrame;
  /** Now, from /health's sections. */
  current: { jobLagMs: number | null; matchLagMs: number | null; successRate: number | null; queueDepth: number | null };
  thresholds: { maxLagMs: number; minSuccessRate: number };
  destinations: DestinationState[];
}

const OUTCOMES = [
  ['actions.delivered', 'Delivered', 'ok'],
  ['actions.retried', 'Retried', 'warn'],
  ['actions.rate_limited', 'Rate-limited', 'info'],
  ['actions.dead', 'Dead', 'bad'],
] as const;

/** The console's landing page: is traffic arriving, are rules matching, are actions landing, how far behind. */
export function overviewPage(o: OverviewInput): SafeHtml {
  const { frame } = o;
  const w = frame.window;
  const base = { starts: frame.starts, unit: w.unit };
  const rejected = frame.items('events.rejected');
  const events = barChart({
    ...base,
    id: 'chart-events',
    title: 'Events received',
    yLabel: `events per ${w.unit}`,
    series: [
      { label: 'Stored', tone: 'ok', values: frame.values('events.received') },
      { label: 'Duplicates', tone: 'muted', values: frame.values('events.duplicate') },
      ...rejected.map((reason): Series => ({ label: `Rejected: ${reason}`, tone: 'bad', values: frame.values('events.rejected', reason) })),
    ],
  });
  const rules = barChart({
    ...base,
    id: 'chart-rules',
    title: 'Rule matches',
    yLabel: `matches per ${w.unit}`,
    series: [
      { label: 'Matched', tone: 'ok', values: frame.values('rules.matched') },
      { label: 'Throttled or digested', tone: 'muted', values: frame.values('rules.held') },
      { label: 'Failed', tone: 'bad', values: frame.values('rules.failed') },
    ],
  });
  const actions = barChart({
    ...base,
    id: 'chart-actions',
    title: 'Action outcomes, all destinations',
    yLabel: `actions per ${w.unit}`,
    series: OUTCOMES.map(([series, label, tone]) => ({ label, tone, values: frame.total(series) })),
  });
  const lag = lineChart({
    ...base,
    id: 'chart-lag',
    title: 'Lag',
    yLabel: 'seconds',
    format: seconds,
    threshold: { value: o.thresholds.maxLagMs, label: `health.maxLagMs ${seconds(o.thresholds.maxLagMs)}` },
    series: [
      { label: 'Oldest due job', tone: 'alt', values: frame.values('lag.jobs') },
      { label: 'Oldest unmatched event', tone: 'info', values: frame.values('lag.match') },
    ],
  });
  const failed = sum(frame.values('rules.failed'));
  const rate = o.current.successRate;
  return html`<h1>Overview</h1>
<nav class="windows" aria-label="Time window"><ul>${Object.values(WINDOWS).map(
    (x) => html`<li><a href="/console?window=${x.key}"${x.key === w.key ? html` aria-current="page"` : ''}>${x.label}</a></li>`,
  )}</ul></nav>
<div class="charts">
${panel(events, [
  ['Stored', String(sum(frame.values('events.received'))), `in the ${w.label.toLowerCase()}`],
  ['Rejected', String(sum(frame.total('events.rejected'))), 'bad signature, bad body, too large…'],
])}
${panel(rules, [
  ['Matched', String(sum(frame.values('rules.matched'))), `in the ${w.label.toLowerCase()}`],
  ['Failed', String(failed), 'threshold: 0 (a failed rule marks the event failed)', failed > 0 ? 'bad' : 'ok'],
])}
${panel(actions, [
  [
    'Recent success',
    rate === null ? '—' : `${(rate * 100).toFixed(1)} %`,
    `threshold: health.minSuccessRate ${(o.thresholds.minSuccessRate * 100).toFixed(0)} %`,
    rate === null ? undefined : rate >= o.thresholds.minSuccessRate ? 'ok' : 'bad',
  ],
  ['Queue', o.current.queueDepth === null ? '—' : String(o.current.queueDepth), 'jobs waiting or running'],
])}
${panel(lag, [lagFigure('Oldest due job', o.current.jobLagMs, o.thresholds.maxLagMs), lagFigure('Oldest unmatched event', o.current.matchLagMs, o.thresholds.maxLagMs)])}
</div>
${destinationsPanel(o, frame, w)}`;
}

type Figure = [label: string, value: string, note: string, tone?: 'ok' | 'bad' | undefined];

function panel(chart: SafeHtml, figures: Figure[]): SafeHtml {
  return html`<section class="panel">
<dl class="now">${figures.map(([label, value, note, tone]) => html`<div><dt>${label}</dt><dd><strong${tone ? html` class="${tone}"` : ''}>${value}</strong> <span class="muted">${note}</span></dd></div>`)}</dl>
${chart}
</section>`;
}

/** Each destination's state now, its queue, and its outcomes over the window. */
function destinationsPanel(o: OverviewInput, frame: FlowFrame, w: Window): SafeHtml {
  const snapshot = new Map(o.destinations.map((d) => [d.destination, d]));
  const names = [...new Set([...o.destinations.map((d) => d.destination), ...OUTCOMES.flatMap(([series]) => frame.items(series))])].filter(isRemote).sort();
  if (names.length === 0)
    return html`<section class="destinations" aria-labelledby="destinations"><h2 id="destinations">Destinations</h2><p class="muted">No action has called Notion, Slack or an HTTP endpoint in the ${w.label.toLowerCase()}.</p></section>`;
  return html`<section class="destinations" aria-labelledby="destinations">
<h2 id="destinations">Destinations</h2>
<table>
<caption>State as this process sees it now; outcomes over the ${w.label.toLowerCase()}</caption>
<thead><tr><th scope="col">Destination</th><th scope="col">State</th><th scope="col">Queue</th>${OUTCOMES.map(([, label]) => html`<th scope="col">${label}</th>`)}</tr></thead>
<tbody>${names.map((name) => {
    const d = snapshot.get(name);
    return html`<tr data-destination="${name}" data-state="${stateWord(d)}"><th scope="row"><code>${name}</code></th><td>${stateOf(d)}</td><td>${d ? d.queued : 0}</td>${OUTCOMES.map(([series]) => html`<td>${sum(frame.values(series, name))}</td>`)}</tr>`;
  })}</tbody>
</table>
<div class="charts fill">${names.map(
    (name, i) =>
      html`<section class="panel">${barChart({
        id: `chart-destination-${i}`,
        title: `Outcomes at ${name}`,
        starts: frame.starts,
        unit: w.unit,
        yLabel: `actions per ${w.unit}`,
        small: true,
        series: OUTCOMES.map(([series, label, tone]) => ({ label, tone, values: frame.values(series, name) })),
      })}</section>`,
  )}</div>
</section>`;
}

/** Flowing, paced, paused until T, or failing with its breaker open (worst first). */
function stateWord(d: DestinationState | undefined): 'idle' | 'failing' | 'paused' | 'paced' | 'flowing' {
  if (!d) return 'idle';
  if (d.failing) return 'failing';
  if (d.pausedUntil) return 'paused';
  return d.queued > 0 || d.speed < 1 ? 'paced' : 'flowing';
}

function stateOf(d: DestinationState | undefined): SafeHtml {
  switch (stateWord(d)) {
    case 'idle':
      return html`${badge('idle', 'muted')} <span class="muted">no call from this process since it started</span>`;
    case 'failing':
      return html`${badge('failing', 'bad')} breaker open after ${d!.failing!.failures} failures (${d!.failing!.error}); next probe ${time(d!.failing!.nextTryAt)}`;
    case 'paused':
      return html`${badge('paused', 'warn')} until ${time(d!.pausedUntil)}${d!.reason ? html` <span class="muted">(${d!.reason})</span>` : ''}`;
    case 'paced':
      return html`${badge('paced', 'muted')} ${d!.queued} waiting for a turn${d!.speed < 1 ? html`, at ${Math.round(d!.speed * 100)} % of its rate after 429s` : ''}`;
    default:
      return badge('flowing', 'ok');
  }
}

const isRemote = (destination: string): boolean => destination === 'notion' || destination.includes(':');

function seconds(ms: number): string {
  if (ms < 1000) return ms === 0 ? '0 s' : `${(ms / 1000).toFixed(1)} s`;
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

/** A lag now against health.maxLagMs (— when the store could not say). */
const lagFigure = (label: string, ms: number | null, max: number): Figure =>
  ms === null ? [label, '—', `threshold: ${seconds(max)}`] : [label, seconds(ms), `threshold: ${seconds(max)}`, ms > max ? 'bad' : 'ok'];
