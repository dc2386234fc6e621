const SECRET_KEY = /token|secret|password|passwd|authorization|api[-_]?key|signature|cookie|credential|private/i;
// Tokens that may sit inside any string: Slack (xoxb-…), Notion (secret_…, ntn_…), bearer headers.
const SECRET_VALUE = /\b(xox[abposr]-[\w-]+|secret_\w{8,}|ntn_\w{8,}|Bearer\s+[\w.~+/=-]{8,})/g;
export const MASK = '••••••';

/**
 * A copy of `value` with secrets hidden, for showing rendered action parameters to operators:
 * values under secret-looking keys, and token-shaped substrings anywhere.
 */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (key && SECRET_KEY.test(key) && value !== null && value !== undefined && value !== '') return MASK;
  if (typeof value === 'string') return value.replace(SECRET_VALUE, MASK);
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  }
  return value;
}
