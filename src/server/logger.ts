import { pino, type Logger, type DestinationStream } from 'pino';

/** Paths that may hold secrets; pino replaces them with "[redacted]" on every line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-notion-signature"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-notion-signature"]',
  'token',
  'verificationToken',
  'verification_token',
  '*.token',
  '*.verificationToken',
  '*.previousVerificationTokens',
  '*.verification_token',
  '*.adminToken',
  '*.signingSecret',
];

/**
 * `err` on every line is an object with `type`, `message` and, when there is one, `code` (a Node
 * or HTTP error code, Slack's `error`) — whether the code logged an Error or a message string — so
 * log queries can rely on `err.type` and `err.message`. The stack is kept for Errors (bugs).
 */
export function serializeErr(err: unknown): { type: string; message: string; code?: string; stack?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      type: err.name && err.name !== 'Error' ? err.name : err.constructor?.name || 'Error',
      message: err.message,
      ...(code !== undefined && code !== null ? { code: String(code) } : {}),
      ...(err.stack ? { stack: err.stack } : {}),
    };
  }
  if (err && typeof err === 'object') {
    const o = err as { type?: unknown; message?: unknown; code?: unknown };
    return {
      type: typeof o.type === 'string' ? o.type : 'Error',
      message: typeof o.message === 'string' ? o.message : JSON.stringify(err),
      ...(o.code !== undefined ? { code: String(o.code) } : {}),
    };
  }
  return { type: 'Error', message: String(err) };
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      serializers: { err: serializeErr },
      base: { service: 'notion-rules' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
