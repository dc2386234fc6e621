import type { Attempt, Job, StoredEvent } from '../../../store/types.js';
import { html, json, time, type SafeHtml } from '../html.js';
import { badge } from '../layout.js';
import { maskedParams } from '../../../actions/registry.js';

export interface EventView {
  stored: StoredEvent;
  jobs: Array<Job & { history: Attempt[] }>;
  csrf: string;
}

type ReportEntry = {
  rule: string;
  matched: boolean;
  actions?: number;
  reason?: string;
  values?: Record<string, unknown>;
  error?: string;
  retriable?: boolean;
  key?: string;
  digest?: string;
  delayed?: boolean;
};

const REASONS: Record<string, string> = {
  condition_false: 'condition false',
  condition_error: 'condition error',
  condition_timeout: 'condition timed out',
  render_error: 'template error',
  fetch_error: 'Notion fetch failed',
  throttled: 'throttled',
};

/** One event: what it was, what every listening rule made of it, and every action attempt. */
export function eventPage({ stored, jobs, csrf }: EventView): SafeHtml {
  const { event } = stored;
  const report = (Array.isArray(stored.report) ? stored.report : []) as ReportEntry[];
  const { raw, ...normalized } = event;
  return html`<h1>Event <code>${event.id}</code></h1>
<dl class="facts">
  <dt>Type</dt><dd><code>${event.type}</code></dd>
  <dt>Entity</dt><dd>${event.entity.type} <code>${event.entity.id}</code></dd>
  <dt>Happened</dt><dd>${time(event.timestamp)}</dd>
  <dt>Received</dt><dd>${time(stored.receivedAt)}</dd>
  <dt>Matching</dt><dd>${stored.status === 'new' ? 'not yet matched' : stored.status === 'failed' ? html`${badge('a rule failed', 'bad')} with rules version <code>${stored.rulesVersion ?? '—'}</code>` : html`done with rules version <code>${stored.rulesVersion ?? '—'}</code>`}</dd>
  <dt>Duplicates received</dt><dd>${stored.duplicates}</dd>
  ${stored.error ? html`<dt>Error</dt><dd class="bad">${stored.error}</dd>` : ''}
</dl>

<h2>Rules</h2>
${
  report.length === 0
    ? html`<p>${stored.status === 'new' ? 'Not matched yet.' : 'No rule listens to this event type.'}</p>`
    : html`<table>
  <caption>Every rule that listens to <code>${event.type}</code>; the others are not listed.</caption>
  <thead><tr><th scope="col">Rule</th><th scope="col">Outcome</th><th scope="col">Why</th></tr></thead>
  <tbody>${report.map(
    (r) => html`<tr>
    <td><code>${r.rule}</code></td>
    <td>${r.matched ? badge(r.digest !== undefined ? 'collected' : r.delayed ? 'waiting' : 'matched', 'ok') : badge(REASONS[r.reason ?? ''] ?? r.reason ?? 'no match', r.reason === 'condition_false' || r.reason === 'throttled' ? 'muted' : 'bad')}</td>
    <td>${
      r.matched
        ? r.digest !== undefined
          ? html`in the digest group <code>${r.digest}</code>: its actions run once for the group`
          : r.delayed
            ? 'its condition is checked again when the wait (after) is over'
            : `${r.actions ?? 0} action${r.actions === 1 ? '' : 's'}`
        : r.reason === 'throttled'
          ? html`already ran for key <code>${r.key ?? ''}</code> in its window`
          : r.values
            ? html`the condition read ${json(r.values)}`
            : (r.error ?? '')
    }</td>
  </tr>`,
  )}</tbody>
</table>`
}

${
  stored.status === 'failed'
    ? html`<form method="post" action="/console/events/${event.id}/replay"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Match the failed rules again</button> <span class="hint">after fixing the cause (a token, a permission, the rule); the rules that matched keep their jobs</span></form>`
    : ''
}

<h2>Jobs</h2>
${jobs.length === 0 ? html`<p>No jobs: no rule matched.</p>` : jobs.map((job) => jobSection(job, csrf))}

<h2>Event data</h2>
<details><summary>Normalized event</summary>${json(normalized)}</details>
<details><summary>Body as received</summary>${json(raw)}</details>`;
}

function jobSection(job: Job & { history: Attempt[] }, csrf: string): SafeHtml {
  const tone = job.status === 'done' ? 'ok' : job.status === 'dead' ? 'bad' : job.status === 'shadow' ? 'muted' : 'warn';
  return html`<section class="job" aria-labelledby="job-${job.id}">
  <h3 id="job-${job.id}">Job ${job.id} · rule <code>${job.ruleId}</code> ${badge(job.status === 'shadow' ? 'shadow: not sent' : job.status, tone)}</h3>
  ${job.status === 'shadow' ? html`<p>A shadow rule: these actions were rendered and recorded as if live, and not sent.</p>` : html`<p>${job.attempts} failed attempt${job.attempts === 1 ? '' : 's'} · ${job.status === 'done' ? `all ${job.actions.length} action${job.actions.length === 1 ? '' : 's'} done` : `next action ${job.nextAction + 1} of ${job.actions.length}`}${job.status === 'pending' && job.attempts > 0 ? html` · retry at ${time(job.runAt)}` : ''}</p>`}
  ${job.lastError ? html`<p class="bad">Last error: ${job.lastError}</p>` : ''}
  ${job.status === 'dead' ? replayButton(job.id, csrf, `/console/events/${encodeURIComponent(job.eventId)}#job-${job.id}`) : ''}
  <ol>${job.actions.map((action, i) => {
    const attempts = job.history.filter((a) => a.actionIndex === i);
    return html`<li><strong>${action.type}</strong> ${i < job.nextAction ? badge('done', 'ok') : ''}
      ${json(maskedParams(action))}
      ${
        attempts.length === 0
          ? html`<p class="muted">Not attempted yet.</p>`
          : html`<table>
        <caption>Attempts of action ${i + 1}</caption>
        <thead><tr><th scope="col">Started</th><th scope="col">Took</th><th scope="col">Outcome</th><th scope="col">Error</th></tr></thead>
        <tbody>${attempts.map((a) => html`<tr><td>${time(a.startedAt)}</td><td class="num">${a.durationMs} ms</td><td>${badge(a.outcome, a.outcome === 'ok' ? 'ok' : a.outcome === 'dead' ? 'bad' : a.outcome === 'rerendered' ? 'muted' : 'warn')}</td><td>${a.error ?? ''}</td></tr>`)}</tbody>
      </table>`
      }
    </li>`;
  })}</ol>
</section>`;
}

/** A form that replays one dead job, then comes back to `back` (the page it is on). */
export function replayButton(jobId: number, csrf: string, back: string): SafeHtml {
  return html`<form class="inline" method="post" action="/console/jobs/${jobId}/replay">
  <input type="hidden" name="csrf" value="${csrf}">
  <input type="hidden" name="back" value="${back}">
  <button type="submit" aria-label="Replay job ${jobId}">Replay</button>
</form>`;
}
