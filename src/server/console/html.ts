/** HTML that is already safe: the output of `html`, or text escaped on purpose. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = SafeHtml | string | number | boolean | null | undefined | readonly Part[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(part: Part): string {
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  if (part === null || part === undefined || part === false) return '';
  return escape(String(part));
}

/**
 * A template tag that escapes every interpolated value unless it is SafeHtml (or a list of
 * SafeHtml): event data from Notion is shown as text, never as markup.
 */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** An ISO time as a <time> element, readable and machine-readable. */
export function time(at: number | string | Date | null | undefined): SafeHtml {
  if (at === null || at === undefined) return html`—`;
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return html`${String(at)}`;
  const iso = d.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')}Z</time>`;
}

/** Pretty JSON in a <pre>, escaped. */
export function json(value: unknown): SafeHtml {
  return html`<pre class="json">${JSON.stringify(value, null, 2) ?? 'undefined'}</pre>`;
}
