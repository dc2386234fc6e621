import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startServer, writeConfig } from '../../support/child.js';
import { eventFrom, fixturesDir } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { SECRET } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

function baseConfig(dir: string): Record<string, unknown> {
  mkdirSync(join(dir, 'rules'), { recursive: true });
  return {
    server: { host: '127.0.0.1', port: 0 },
    store: { url: `sqlite:${join(dir, 'store.db')}` },
    rules: { dir: join(dir, 'rules'), watch: false },
  };
}

describe('notion-rules serve (child process)', () => {
  it('refuses to start without a verification token: exit 2, one line saying how to fix it', async () => {
    const dir = tempDir();
    const res = await runCli(['serve', '--config', writeConfig(dir, baseConfig(dir))]);
    expect(res.code).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/notion\.verificationToken is not set: set NOTION_WEBHOOK_SECRET/);
    expect(lines[0]).toMatch(/serve --handshake/);
  });

  it('stops on a config error with exit 2 and one line per problem, no stack', async () => {
    const dir = tempDir();
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'server:\n  port: 3000\nslack:\n  token: ${MISSING_SLACK_TOKEN}\n');
    const res = await runCli(['serve', '--config', file], { NOTION_WEBHOOK_SECRET: SECRET });
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(
      `notion-rules: config error: ${file}:4: slack.token: environment variable MISSING_SLACK_TOKEN is not set (set it, or write \${MISSING_SLACK_TOKEN:-default})\n`,
    );
  });

  it('keeps an acknowledged event through SIGKILL right after the 200', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, baseConfig(dir));
    const server = await startServer(config, { NOTION_WEBHOOK_SECRET: SECRET });
    const ev = eventFrom('page.created.json');
    const res = await postEvent(`${server.url}/webhook`, ev, SECRET);
    expect(res.status).toBe(200);
    server.proc.kill('SIGKILL');
    expect((await server.exited).signal).toBe('SIGKILL');

    const db = new Database(join(dir, 'store.db'), { readonly: true });
    expect(db.prepare('SELECT id, type FROM events').all()).toEqual([{ id: ev.id, type: 'page.created' }]);
    db.close();

    // And the restarted service knows it: the retry is a duplicate.
    const again = await startServer(config, { NOTION_WEBHOOK_SECRET: SECRET });
    const retry = await postEvent(`${again.url}/webhook`, ev, SECRET);
    expect(retry.body).toMatchObject({ ok: true, duplicate: true });
    expect((await again.kill('SIGTERM')).code).toBe(0);
  });

  it('refuses to start on an invalid rules folder, listing its problems', async () => {
    const dir = tempDir();
    const config = baseConfig(dir);
    writeFileSync(join(dir, 'rules', 'bad.yaml'), 'id: bad\non: page.update\nactions:\n  - log: { message: x }\n');
    const res = await runCli(['serve', '--config', writeConfig(dir, config)], { NOTION_WEBHOOK_SECRET: SECRET });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`notion-rules: rules: ${join(dir, 'rules', 'bad.yaml')}:2: bad: on: unknown event type "page.update"`);
    expect(res.stderr).toContain('not starting: the rules folder is invalid (1 problem)');
  });

  it('shuts down cleanly on SIGTERM and SIGINT', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, baseConfig(dir));
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const server = await startServer(config, { NOTION_WEBHOOK_SECRET: SECRET });
      expect(await server.kill(signal)).toEqual({ code: 0, signal: null });
      expect(server.logs.map((l) => l.msg)).toContain('stopped');
    }
  });

  it('serves the handshake before a token exists; `token` prints it', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, baseConfig(dir));
    const before = await runCli(['token', '--config', config]);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/no verification token received yet/);

    const server = await startServer(config, {}, ['--handshake']);
    const res = await postEvent(`${server.url}/webhook`, { verification_token: 'secret_abc123' }, null);
    expect(res.status).toBe(200);
    await server.kill();
    const after = await runCli(['token', '--config', config]);
    expect(after).toMatchObject({ code: 0, stdout: 'secret_abc123\n' });
  });
});

describe('notion-rules sign', () => {
  it('prints the header value that the server accepts', async () => {
    const dir = tempDir();
    const server = await startServer(writeConfig(dir, baseConfig(dir)), { NOTION_WEBHOOK_SECRET: SECRET });
    const file = join(fixturesDir, 'notion/page.created.json');
    const signed = await runCli(['sign', '--secret', SECRET, file]);
    expect(signed.code).toBe(0);
    const { readFileSync } = await import('node:fs');
    const res = await postEvent(`${server.url}/webhook`, readFileSync(file, 'utf8'), null, {
      'x-notion-signature': signed.stdout.trim(),
    });
    expect(res.status).toBe(200);
    await server.kill();
  });

  it('is a usage error without a secret or with an unreadable file', async () => {
    expect((await runCli(['sign', 'x.json'])).code).toBe(2);
    const missing = await runCli(['sign', '--secret', 's', '/nonexistent.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('notion-rules: sign: cannot read /nonexistent.json: ENOENT\n');
  });

  it('unknown commands and options are usage errors (exit 2)', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['serve', '--nope'])).code).toBe(2);
  });
});
