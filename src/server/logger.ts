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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'notion-rules' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
