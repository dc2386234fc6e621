/**
 * How a template value is written into the place it lands, so that event content (a page title
 * is anyone's to edit) stays data: it cannot move an `http` call to another path or query, nor
 * ping a Slack channel. A rule that wants a value as it is writes `{{{ expr }}}` (raw).
 */
export type Encoder = (value: string) => string;

/** Slack's control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function slackEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A URL path segment or query value: percent-encoded, `/ ? # & =` included. */
export const urlEncode: Encoder = encodeURIComponent;

const SLACK_TEXT_KEYS = new Set(['text', 'pretext', 'fallback', 'title', 'footer']);

/** The encoder for a value at `path` in the parameters of an action of type `type`, if any. */
export function encoderFor(type: string, path: readonly (string | number)[]): Encoder | undefined {
  const last = path[path.length - 1];
  if (type === 'http') return path.length === 1 && last === 'url' ? urlEncode : undefined;
  if (type === 'slack') {
    if (path.length === 1) return last === 'text' ? slackEscape : undefined;
    // Block Kit text objects and legacy attachments carry their text under these keys.
    return (path[0] === 'blocks' || path[0] === 'attachments') && typeof last === 'string' && SLACK_TEXT_KEYS.has(last) ? slackEscape : undefined;
  }
  return undefined;
}

/** A URL path made of `.` or `..` segments by a template value would be normalized away. */
export function dotSegment(url: string): boolean {
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').split(/[?#]/)[0]!;
  return path.split('/').some((seg) => /^(\.|%2e){1,2}$/i.test(seg));
}

/** Header values may not carry CR or LF (a second header, or a forged body). */
export function headerProblem(name: string, value: unknown): string | undefined {
  return typeof value === 'string' && /[\r\n\0]/.test(value) ? `header "${name}" renders to a value with a line break; refused` : undefined;
}
