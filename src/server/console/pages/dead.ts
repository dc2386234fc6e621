import type { Job } from '../../../store/types.js';
import { html, time, type SafeHtml } from '../html.js';
import { replayButton } from './event.js';

/** Dead jobs, newest first: why each died, a replay button each, and "replay all". */
export function deadPage(jobs: Job[], csrf: string): SafeHtml {
  if (jobs.length === 0) return html`<h1>Dead letters</h1><p>No dead jobs.</p>`;
  return html`<h1>Dead letters</h1>
<p>A replay runs the job again from the action that failed; the actions before it are not repeated.</p>
<form method="post" action="/console/dead/replay">
  <input type="hidden" name="csrf" value="${csrf}">
  <button class="primary" type="submit">Replay all dead jobs (${jobs.length})</button>
</form>
<table>
  <caption>${jobs.length} dead job${jobs.length === 1 ? '' : 's'}</caption>
  <thead><tr><th scope="col">Job</th><th scope="col">Rule</th><th scope="col">Event</th><th scope="col">Failed action</th><th scope="col">Attempts</th><th scope="col">Error</th><th scope="col">Died</th><th scope="col"><span class="skip">Replay</span></th></tr></thead>
  <tbody>${jobs.map(
    (j) => html`<tr>
    <td class="num">${j.id}</td>
    <td><code>${j.ruleId}</code></td>
    <td><a class="mono" href="/console/events/${encodeURIComponent(j.eventId)}#job-${j.id}">${j.eventId}</a></td>
    <td>${j.nextAction + 1}. ${j.actions[j.nextAction]?.type ?? '—'}</td>
    <td class="num">${j.attempts}</td>
    <td class="bad">${j.lastError ?? ''}</td>
    <td>${time(j.updatedAt)}</td>
    <td>${replayButton(j.id, csrf, '/console/dead')}</td>
  </tr>`,
  )}</tbody>
</table>`;
}
