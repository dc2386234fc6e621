/**
 * Every error code an HTTP answer of notion-rules carries (`{"error": code, "detail"?: …}`), with
 * its status and what it means. The one list: routes answer through `httpError`, and a test checks
 * it against the README's table (Operations → Errors) both ways.
 */
export const HTTP_ERRORS = {
  invalid_signature: {
    status: 401,
    meaning: 'X-Notion-Signature is missing or does not match the body (a handshake is accepted unsigned only while no verification token is set)',
  },
  invalid_event: {
    status: 400,
    meaning: 'a signed body that is not a Notion event: not UTF-8, not JSON, nested deeper than 64 levels, or without id and type',
  },
  payload_too_large: { status: 413, meaning: 'the body is larger than server.bodyLimit' },
  unsupported_media_type: { status: 415, meaning: 'the body is not application/json' },
  invalid_user_agent: { status: 403, meaning: 'the User-Agent does not match security.userAgent' },
  rate_limited: { status: 429, meaning: 'more requests from this client than server.rateLimit allows; retry after Retry-After' },
  store_unavailable: { status: 503, meaning: 'the store cannot write now (disk full, database down): nothing was kept, Notion retries' },
  unauthorized: { status: 401, meaning: 'the admin API and /metrics need Authorization: Bearer security.adminToken' },
  not_found: { status: 404, meaning: 'no event with that id' },
  unknown_rule: { status: 404, meaning: 'no rule with that id in the active rules (detail suggests close ones)' },
  invalid_until: { status: 400, meaning: "a pause's until is neither a future ISO time nor a duration such as 2h" },
  invalid_status: { status: 400, meaning: '?status= is not one of the statuses listed in detail' },
  missing_query: { status: 400, meaning: '/admin/search needs ?q=' },
  internal_error: { status: 500, meaning: 'a bug: the log has the stack' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** The status and body of an error answer. */
export function httpError(code: HttpErrorCode, detail?: string): { status: number; body: { error: HttpErrorCode; detail?: string } } {
  return { status: HTTP_ERRORS[code].status, body: { error: code, ...(detail !== undefined ? { detail } : {}) } };
}
