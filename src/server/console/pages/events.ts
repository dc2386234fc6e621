import type { EventListStatus, EventSummary } from '../../../store/types.js';
import { html, time, type SafeHtml } from '../html.js';
import { badge } from '../layout.js';

export const EVENT_FILTERS: Array<[EventListStatus | '', string]> = [
  ['', 'all'],
  ['new', 'awaiting match'],
  ['failed', 'a rule failed'],
  ['pending', 'pending'],
  ['processed', 'processed'],
  ['dead', 'with dead letters'],
];

/** An event's state in one word: processed, pending, partly failed (some jobs dead), dead, rule failed. */
export function eventBadge(e: Pick<EventSummary, 'status' | 'jobs'>): SafeHtml {
  if (e.status === 'failed') return badge('rule failed', 'bad');
  if (e.status === 'dead') return e.jobs.done > 0 ? badge('partly failed', 'bad') : badge('dead', 'bad');
  if (e.status === 'new') return badge('awaiting match', 'muted');
  if (e.status === 'pending') return badge('pending', 'warn');
  return badge('processed', 'ok');
}

/** Recent events, newest first, with a status filter that works without JavaScript. */
export function eventsPage(events: EventSummary[], filter: EventListStatus | undefined, limit: number): SafeHtml {
  return html`<h1>Recent events</h1>
<form class="toolbar" method="get" action="/console/events">
  <div><label for="status">Status</label>
  <select id="status" name="status">${EVENT_FILTERS.map(([value, label]) => html`<option value="${value}"${(filter ?? '') === value ? html` selected` : ''}>${label}</option>`)}</select></div>
  <button type="submit">Show</button>
</form>
${
  events.length === 0
    ? html`<p>No events${filter ? ' with this status' : ' yet'}.</p>`
    : html`<table>
  <caption>${events.length} most recent${filter ? ` (${EVENT_FILTERS.find(([v]) => v === filter)?.[1]})` : ''}</caption>
  <thead><tr><th scope="col">Received</th><th scope="col">Type</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Jobs done</th><th scope="col">Dead</th><th scope="col">Duplicates</th></tr></thead>
  <tbody>${events.map(
    (e) => html`<tr>
    <td>${time(e.receivedAt)}</td>
    <td><code>${e.type}</code></td>
    <td><a class="mono" href="/console/events/${encodeURIComponent(e.id)}">${e.id}</a></td>
    <td>${eventBadge(e)}</td>
    <td class="num">${e.jobs.done} / ${e.jobs.total - e.jobs.shadow}${e.jobs.shadow ? html` <span class="muted">(+${e.jobs.shadow} shadow)</span>` : ''}</td>
    <td class="num">${e.jobs.dead}</td>
    <td class="num">${e.duplicates}</td>
  </tr>`,
  )}</tbody>
</table>
${events.length >= limit ? html`<p><a href="/console/events?${new URLSearchParams({ ...(filter ? { status: filter } : {}), limit: String(Math.min(limit * 5, 1000)) }).toString()}">Show more</a></p>` : ''}`
}`;
}
