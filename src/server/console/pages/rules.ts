import type { RuleCoordinator } from '../../../engine/coordinator.js';
import { formatProblem } from '../../../config/errors.js';
import { html, time, type SafeHtml } from '../html.js';
import { badge } from '../layout.js';
import type { CompiledRule } from '../../../engine/types.js';
import { nextTick } from '../../../matching/schedules.js';
import type { RulePause, TimingStatus } from '../../../store/types.js';
import { sparkline } from '../charts.js';
import { sum, type FlowFrame } from '../flow-frame.js';

/** The active rule set, its version and the last reload (with its problems), and a reload button. */
export function rulesPage(rules: RuleCoordinator, csrf: string, timing: TimingStatus, paused: RulePause[], flow: FlowFrame, now = Date.now()): SafeHtml {
  const current = rules.current;
  const pauses = new Map(paused.map((p) => [p.ruleId, p]));
  const last = rules.lastReload;
  return html`<h1>Rules</h1>
<dl class="facts">
  <dt>Active version</dt><dd><code>${current.version}</code>, loaded ${time(current.loadedAt)}</dd>
  <dt>Last reload</dt><dd>${last.ok ? badge('ok', 'ok') : badge('failed', 'bad')} ${time(last.at)} by ${last.trigger}, ${last.durationMs} ms${last.ok ? '' : html` — the rules of version <code>${current.version}</code> keep running`}</dd>
</dl>
${last.ok ? '' : html`<div class="error" role="alert"><p>The last reload found ${last.problems.length} problem${last.problems.length === 1 ? '' : 's'}:</p><ul>${last.problems.map((p) => html`<li><code>${formatProblem(p)}</code></li>`)}</ul></div>`}
<form method="post" action="/console/rules/reload">
  <input type="hidden" name="csrf" value="${csrf}">
  <button type="submit">Reload rules now</button>
</form>
<table>
  <caption>${current.all.length} rule${current.all.length === 1 ? '' : 's'} in folder order</caption>
  <thead><tr><th scope="col">Rule</th><th scope="col">File</th><th scope="col">On</th><th scope="col">Fetch</th><th scope="col">When</th><th scope="col">Actions</th><th scope="col">Timing</th><th scope="col">Last hour</th><th scope="col">Mode</th></tr></thead>
  <tbody>${current.all.map(
    (r) => html`<tr>
    <td><code>${r.id}</code>${r.enabled ? '' : html` ${badge('disabled', 'muted')}`}${r.description ? html`<br><span class="muted">${r.description}</span>` : ''}</td>
    <td class="mono">${r.file}:${r.line}</td>
    <td>${r.on.map((t, i) => html`${i > 0 ? ', ' : ''}<code>${t}</code>`)}</td>
    <td>${r.fetch.join(', ') || '—'}</td>
    <td>${r.when ? html`<code>${r.when.source}</code>` : html`<span class="muted">always</span>`}</td>
    <td>${r.actions.map((a) => a.type).join(' → ')}</td>
    <td>${timingOf(r, timing, now)}</td>
    <td class="activity">${activityOf(r.id, flow)}</td>
    <td>${modeOf(r, pauses.get(r.id), csrf)}</td>
  </tr>`,
  )}</tbody>
</table>`;
}

/** A rule's matches, failures and throttled or digested matches per minute: a sparkline and its numbers. */
function activityOf(ruleId: string, flow: FlowFrame): SafeHtml {
  const matched = flow.values('rule.matched', ruleId);
  const held = flow.values('rule.held', ruleId);
  const failed = flow.values('rule.failed', ruleId);
  const words = `${sum(matched)} matched · ${sum(failed)} failed · ${sum(held)} throttled or digested`;
  return html`${sparkline(`${ruleId}, last hour per minute: ${words}`, [
    { label: 'matched', tone: 'ok', values: matched },
    { label: 'throttled or digested', tone: 'muted', values: held },
    { label: 'failed', tone: 'bad', values: failed },
  ])}<br><span class="muted">${words}</span>`;
}

/** Live, shadow or paused, with the button that pauses or resumes it. */
function modeOf(r: CompiledRule, pause: RulePause | undefined, csrf: string): SafeHtml {
  const id = encodeURIComponent(r.id);
  if (pause)
    return html`${badge('paused', 'warn')} ${pause.until ? html`until ${time(new Date(pause.until))}` : 'until resumed'} by ${pause.source}
<form method="post" action="/console/rules/${id}/resume"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Resume</button></form>`;
  return html`${r.mode === 'shadow' ? badge('shadow', 'muted') : 'live'}
<form method="post" action="/console/rules/${id}/pause"><input type="hidden" name="csrf" value="${csrf}">
  <label for="until-${r.id}">Pause</label>
  <select id="until-${r.id}" name="until"><option value="1h">for 1 hour</option><option value="4h">for 4 hours</option><option value="24h">for 24 hours</option><option value="resumed">until resumed</option></select>
  <button type="submit">Pause</button></form>`;
}

/** What a rule's throttle, digest, wait or schedule is doing now. */
function timingOf(r: CompiledRule, timing: TimingStatus, now: number): SafeHtml | string {
  if (r.throttle) return `once per key per ${duration(r.throttle.perMs)}`;
  if (r.digest) {
    const d = timing.digests.find((x) => x.ruleId === r.id);
    return d
      ? html`digest (${duration(r.digest.waitMs)}, max ${r.digest.max}): ${d.groups} open group${d.groups === 1 ? '' : 's'}, ${d.items} item${d.items === 1 ? '' : 's'}, next due ${time(new Date(d.nextDueAt))}`
      : `digest (${duration(r.digest.waitMs)}, max ${r.digest.max}): nothing open`;
  }
  if (r.after) {
    const d = timing.delays.find((x) => x.ruleId === r.id);
    return d
      ? html`after ${duration(r.after.delayMs)}: ${d.waiting} waiting, next check ${time(new Date(d.nextDueAt))}`
      : `after ${duration(r.after.delayMs)}: none waiting`;
  }
  if (r.schedule) {
    const next = nextTick(r.schedule, now);
    const when = r.schedule.cron ? `${r.schedule.cron} (${r.schedule.timezone})` : `every ${duration(r.schedule.everyMs!)}`;
    return html`${when}${next === undefined ? '' : html`, next ${time(new Date(next))}`}`;
  }
  return '—';
}

function duration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
