import type { RuleCoordinator } from '../../../engine/coordinator.js';
import { formatProblem } from '../../../config/errors.js';
import { html, time, type SafeHtml } from '../html.js';
import { badge } from '../layout.js';

/** The active rule set, its version and the last reload (with its problems), and a reload button. */
export function rulesPage(rules: RuleCoordinator, csrf: string): SafeHtml {
  const current = rules.current;
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
  <thead><tr><th scope="col">Rule</th><th scope="col">File</th><th scope="col">On</th><th scope="col">Fetch</th><th scope="col">When</th><th scope="col">Actions</th></tr></thead>
  <tbody>${current.all.map(
    (r) => html`<tr>
    <td><code>${r.id}</code>${r.enabled ? '' : html` ${badge('disabled', 'muted')}`}${r.description ? html`<br><span class="muted">${r.description}</span>` : ''}</td>
    <td class="mono">${r.file}:${r.line}</td>
    <td>${r.on.map((t, i) => html`${i > 0 ? ', ' : ''}<code>${t}</code>`)}</td>
    <td>${r.fetch.join(', ') || '—'}</td>
    <td>${r.when ? html`<code>${r.when.source}</code>` : html`<span class="muted">always</span>`}</td>
    <td>${r.actions.map((a) => a.type).join(' → ')}</td>
  </tr>`,
  )}</tbody>
</table>`;
}
