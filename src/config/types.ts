/** The validated configuration, with every default filled in (see schemas/config.schema.json). */
export interface Config {
  /** The file the configuration was read from, for messages; `(defaults)` when none. */
  source: string;
  server: {
    host: string;
    port: number;
    bodyLimit: number;
    path: string;
    adminPort?: number;
    rateLimit?: { max: number; timeWindowMs: number };
    shutdownTimeoutMs: number;
    trustProxy: false | string[];
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    keepAliveTimeoutMs: number;
    maxConnections: number;
    heapGrowthPercent: number;
  };
  notion: { verificationToken?: string; previousVerificationTokens: string[]; token?: string; baseUrl: string; version: string; timeoutMs: number };
  slack: { token?: string; apiUrl: string; timeoutMs: number };
  http: { signingSecret?: string; timeoutMs: number };
  security: { allowUnsigned: boolean; adminToken?: string; userAgent?: string };
  rules: {
    dir: string;
    watch: boolean;
    evalTimeoutMs: number;
    pollIntervalMs: number;
    extraEventTypes: string[];
    maxFileBytes: number;
    maxFiles: number;
    testOnReload: boolean;
    shadowDir?: string;
  };
  store: { url: string; retention: { days: number; batch: number; intervalMs: number } };
  delivery: {
    concurrency: number;
    maxAttempts: number;
    /** A duration (`24h`) or milliseconds. */
    maxAge: string | number;
    leaseMs: number;
    backoff: { baseMs: number; maxMs: number };
    limits: {
      notion: { rate: Rate; burst: number };
      slack: { perChannel: Rate; burst: number };
      http: Record<string, Rate | { rate: Rate; burst?: number }>;
    };
  };
  search: { url: 'store' };
  health: { minSuccessRate: number; maxLagMs: number };
  sentry: { dsn?: string; environment?: string };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
}

/** Calls a second, or `N/s`, `N/min`. */
export type Rate = number | string;
