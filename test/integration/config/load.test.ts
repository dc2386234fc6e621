import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { loadConfig, parseConfig } from '../../../src/config/load.js';
import { repoRoot } from '../../support/fixtures.js';
import { tempDir } from '../../support/tmp.js';

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, 'config.yaml', { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
}

describe('config', () => {
  it('fills every default of SPEC §2', () => {
    const c = parseConfig('', 'config.yaml', { env: {} });
    expect(c.server).toMatchObject({
      host: '0.0.0.0',
      port: 3000,
      bodyLimit: 1048576,
      path: '/webhook',
      trustProxy: false,
      requestTimeoutMs: 30000,
      headersTimeoutMs: 10000,
      keepAliveTimeoutMs: 72000,
      maxConnections: 1024,
      heapGrowthPercent: 25,
    });
    expect(c.security.allowUnsigned).toBe(false);
    expect(c.rules).toMatchObject({ dir: './rules', watch: true, evalTimeoutMs: 100, pollIntervalMs: 5000, maxFileBytes: 262144, maxFiles: 1000 });
    expect(c.store).toEqual({ url: 'sqlite:./data/notion-rules.db', retention: { days: 30, batch: 1000, intervalMs: 600000 } });
    expect(c.delivery).toEqual({
      concurrency: 32,
      maxAttempts: 100,
      maxAge: '24h',
      leaseMs: 10000,
      backoff: { baseMs: 1000, maxMs: 600000 },
      limits: { notion: { rate: '3/s', burst: 9 }, slack: { perChannel: '1/s', burst: 4 }, http: {} },
    });
    expect(c.health).toEqual({ minSuccessRate: 0.95, maxLagMs: 60000 });
    expect(c.log.level).toBe('info');
    expect(Object.isFrozen(c.server)).toBe(true);
  });

  it('takes sentry.dsn and sentry.environment from SENTRY_DSN and SENTRY_ENVIRONMENT; a DSN must be a URL', () => {
    const c = parseConfig('', 'config.yaml', { env: { SENTRY_DSN: 'https://abc@o1.ingest.sentry.io/42', SENTRY_ENVIRONMENT: 'prod' } });
    expect(c.sentry).toEqual({ dsn: 'https://abc@o1.ingest.sentry.io/42', environment: 'prod' });
    expect(parseConfig('', 'config.yaml', { env: {} }).sentry).toEqual({});
    expect(problems('sentry:\n  dsn: not a url\n')).toEqual([expect.stringMatching(/^config\.yaml:2: sentry\.dsn: /)]);
  });

  it('refuses a security.userAgent that is not a regular expression, naming the key', () => {
    expect(problems('security:\n  userAgent: "notion("\n')).toEqual([expect.stringMatching(/^config\.yaml:2: security\.userAgent: .*regex/)]);
    expect(problems('security:\n  userAgent: "^notion"\n')).toEqual([]);
  });

  it('interpolates ${VAR} and ${VAR:-default}, keeping YAML types for whole references', () => {
    const c = parseConfig(
      'server:\n  port: ${P:-4000}\n  host: ${H}\nstore:\n  url: sqlite:${DIR:-/tmp}/x.db\nsecurity:\n  allowUnsigned: ${U:-false}\n',
      'config.yaml',
      { env: { H: '127.0.0.1', U: 'true' } },
    );
    expect(c.server.port).toBe(4000);
    expect(c.server.host).toBe('127.0.0.1');
    expect(c.store.url).toBe('sqlite:/tmp/x.db');
    expect(c.security.allowUnsigned).toBe(true);
  });

  it('takes secrets from the environment and PORT over the file', () => {
    const c = parseConfig('server:\n  port: 3000\n', 'config.yaml', {
      env: { NOTION_WEBHOOK_SECRET: 's1', NOTION_TOKEN: 'n1', SLACK_BOT_TOKEN: 'x1', PORT: '8080' },
    });
    expect(c.notion.verificationToken).toBe('s1');
    expect(c.notion.token).toBe('n1');
    expect(c.slack.token).toBe('x1');
    expect(c.server.port).toBe(8080);
  });

  it('names the variable, key and line of a missing variable', () => {
    expect(problems('server:\n  port: 3000\nslack:\n  token: ${SLACK_TOKEN_X}\n')).toEqual([
      'config.yaml:4: slack.token: environment variable SLACK_TOKEN_X is not set (set it, or write ${SLACK_TOKEN_X:-default})',
    ]);
  });

  it('lets validate-style callers go on without secrets', () => {
    const c = parseConfig('slack:\n  token: ${SLACK_TOKEN_X}\n', 'config.yaml', { env: {}, lenient: true });
    expect(c.slack.token).toBeUndefined();
  });

  it('rejects an unknown key with its line and a suggestion', () => {
    expect(problems('server:\n  prot: 3000\n')).toEqual(['config.yaml:2: server.prot: unknown key (did you mean "port"?)']);
    expect(problems('servr:\n  port: 3000\n')).toEqual(['config.yaml:1: servr: unknown key (did you mean "server"?)']);
  });

  it('rejects a wrong type with the key and line', () => {
    expect(problems('delivery:\n  concurrency: many\n')).toEqual(['config.yaml:2: delivery.concurrency: must be integer']);
    expect(problems('server:\n  heapGrowthPercent: -5\n')).toEqual(['config.yaml:2: server.heapGrowthPercent: must be >= 0']);
    expect(problems('log:\n  level: loud\n')).toEqual(['config.yaml:2: log.level: must be one of fatal, error, warn, info, debug, trace or silent']);
  });

  it('reports every problem at once', () => {
    expect(problems('server:\n  prot: 1\ndelivery:\n  concurrency: 0\n')).toHaveLength(2);
  });

  it('reports YAML syntax errors with the line', () => {
    const [line] = problems('server:\n  port: [3000\n');
    expect(line).toMatch(/^config\.yaml:\d+: YAML: /);
  });

  it('reports a missing file by name', () => {
    expect(() => loadConfig(join(tempDir(), 'nope.yaml'))).toThrow(/nope\.yaml: file not found/);
  });

  it('loads the shipped config.yaml', () => {
    const c = loadConfig(join(repoRoot, 'config.yaml'), { env: {} });
    expect(c.server.port).toBe(3000);
    expect(c.rules.dir).toBe('./rules');
  });

  it('reads a file from disk', () => {
    const f = join(tempDir(), 'c.yaml');
    writeFileSync(f, 'server:\n  port: 1234\n');
    expect(loadConfig(f, { env: {} }).server.port).toBe(1234);
  });
});

describe('secret references and token lists', () => {
  it('reads ${file:…} (one trailing newline trimmed), inside a string too; an unreadable file names its key and path', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'token'), 'from-a-secret-file-0123456789\n');
    writeFileSync(join(dir, 'host'), 'db.internal');
    const c = parseConfig(
      `notion:\n  verificationToken: \${file:${join(dir, 'token')}}\nstore:\n  url: "postgres://app@\${file:${join(dir, 'host')}}/rules"\n`,
      'config.yaml',
      { env: {} },
    );
    expect(c.notion.verificationToken).toBe('from-a-secret-file-0123456789');
    expect(c.store.url).toBe('postgres://app@db.internal/rules');
    expect(problems(`slack:\n  token: \${file:${join(dir, 'missing')}}\n`)).toEqual([
      `config.yaml:2: slack.token: cannot read the secret file ${join(dir, 'missing')} (ENOENT)`,
    ]);
    // Authoring commands need no secrets: the key is left unset.
    expect(parseConfig(`slack:\n  token: \${file:${join(dir, 'missing')}}\n`, 'config.yaml', { env: {}, lenient: true }).slack.token).toBeUndefined();
  });

  it('notion.verificationToken may be a list while a token is rotated: the first is current, the rest are accepted too', () => {
    const c = parseConfig('notion:\n  verificationToken: [new-token-0123456789, old-token-0123456789]\n', 'config.yaml', { env: {} });
    expect(c.notion.verificationToken).toBe('new-token-0123456789');
    expect(c.notion.previousVerificationTokens).toEqual(['old-token-0123456789']);
  });
});
