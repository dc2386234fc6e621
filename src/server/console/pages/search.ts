import type { SearchHit } from '../../../store/types.js';
import { html, type SafeHtml } from '../html.js';

/** The search index (what `search.index` actions wrote), queried like `notion-rules search`. */
export function searchPage(query: string, hits: SearchHit[] | undefined, error?: string): SafeHtml {
  return html`<h1>Search</h1>
<form class="toolbar" method="get" action="/console/search" role="search">
  <div><label for="q">Words to find in indexed pages</label>
  <input id="q" name="q" type="search" value="${query}" size="40"></div>
  <button type="submit">Search</button>
</form>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
${
  hits === undefined
    ? ''
    : hits.length === 0
      ? html`<p>Nothing found for “${query}”.</p>`
      : html`<table>
  <caption>${hits.length} result${hits.length === 1 ? '' : 's'} for “${query}”</caption>
  <thead><tr><th scope="col">Title</th><th scope="col">Match</th><th scope="col">Id</th></tr></thead>
  <tbody>${hits.map(
    (h) => html`<tr>
    <td>${h.url ? html`<a href="${safeUrl(h.url)}" rel="noreferrer">${h.title || h.id}</a>` : h.title || h.id}</td>
    <td>${h.snippet}</td>
    <td class="mono">${h.id}</td>
  </tr>`,
  )}</tbody>
</table>`
}`;
}

/** Only http(s) links: an indexed url is data from a rule, not to be trusted as a javascript: URL. */
function safeUrl(url: string): string {
  return /^https?:\/\//i.test(url) ? url : '#';
}
