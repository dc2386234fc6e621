import type { AuditRecord } from '../../../store/types.js';
import { html, time, type SafeHtml } from '../html.js';
import { badge } from '../layout.js';

/** The audit log: each load of the rules (what changed, by content hash) and each pause, resume and replay, with its source. */
export function auditPage(entries: AuditRecord[], rule: string | undefined): SafeHtml {
  return html`<h1>Audit log</h1>
<form class="toolbar" method="get" action="/console/audit">
  <div><label for="rule">Rule id</label>
  <input id="rule" name="rule" value="${rule ?? ''}" size="30"></div>
  <button type="submit">Filter</button>
</form>
${
  entries.length === 0
    ? html`<p>Nothing recorded${rule ? html` for <code>${rule}</code>` : ''} yet.</p>`
    : html`<table>
  <caption>${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, newest first${rule ? html`, about <code>${rule}</code>` : ''}</caption>
  <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Rule</th><th scope="col">By</th><th scope="col">Detail</th></tr></thead>
  <tbody>${entries.map(
    (e) => html`<tr>
    <td>${time(e.at)}</td>
    <td>${e.action === 'reload' && e.detail.ok === false ? badge('reload failed', 'bad') : e.action}</td>
    <td>${e.ruleId ? html`<code>${e.ruleId}</code>` : '—'}</td>
    <td>${e.source}</td>
    <td>${detailOf(e)}</td>
  </tr>`,
  )}</tbody>
</table>`
}`;
}

function detailOf(e: AuditRecord): SafeHtml | string {
  const d = e.detail;
  if (e.action === 'reload') {
    if (d.ok === false) return html`kept <code>${String(d.activeVersion)}</code>; ${list(d.problems)}`;
    const parts = (['added', 'removed', 'changed'] as const).filter((k) => list(d[k]) !== '').map((k) => `${k}: ${list(d[k])}`);
    return html`version <code>${String(d.version)}</code>${parts.length ? ` — ${parts.join('; ')}` : ''}`;
  }
  if (e.action === 'pause') return d.until ? html`until ${time(String(d.until))}` : 'until resumed';
  if (e.action === 'replay') return d.event ? `event ${String(d.event)}` : d.job ? `job ${String(d.job)}` : `${String(d.jobs ?? 0)} dead jobs`;
  return '';
}

function list(v: unknown): string {
  return Array.isArray(v) ? v.map(String).join(', ') : '';
}
