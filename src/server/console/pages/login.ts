import { html, type SafeHtml } from '../html.js';

/** The login form: the token is POSTed once and kept in a session cookie, never in a URL. */
export function loginPage(next: string, error?: string): SafeHtml {
  return html`<div class="login">
<h1>Operator console</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/console/login">
  <input type="hidden" name="next" value="${next}">
  <label for="token">Admin token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <button class="primary" type="submit">Log in</button>
</form>
<p class="muted">The admin token is <code>security.adminToken</code> (env <code>NOTION_RULES_ADMIN_TOKEN</code>).</p>
</div>`;
}
