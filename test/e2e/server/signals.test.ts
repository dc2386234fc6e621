import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../fakes/slack.js';
import { startServer, writeConfig } from '../../support/child.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { SECRET, UNPACED } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

let slack: FakeSlack;
beforeEach(async () => {
  slack = new FakeSlack();
  await slack.start();
});
afterEach(() => slack.stop());

function setup(rules: Record<string, string>) {
  const dir = tempDir();
  const rulesPath = rulesDir(rules, join(dir, 'rules'));
  const config = writeConfig(dir, {
    server: { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 5000 },
    store: { url: `sqlite:${join(dir, 'store.db')}` },
    rules: { dir: rulesPath, watch: false },
    slack: { apiUrl: slack.url },
    delivery: { limits: UNPACED },
    log: { level: 'info' },
  });
  return { dir, rulesPath, config, env: { NOTION_WEBHOOK_SECRET: SECRET, SLACK_BOT_TOKEN: slack.token } };
}

describe('signals (child process)', () => {
  it('SIGHUP reloads the rules folder', async () => {
    const { rulesPath, config, env } = setup({ 'a.yaml': 'id: one\non: page.created\nactions:\n  - log: { message: one }\n' });
    const server = await startServer(config, env);
    writeFileSync(join(rulesPath, 'a.yaml'), 'id: two\non: page.created\nactions:\n  - log: { message: two }\n');
    server.proc.kill('SIGHUP');
    await server.waitForLog((l) => l.msg === 'rules reloaded' && l.trigger === 'SIGHUP');
    await postEvent(`${server.url}/webhook`, eventFrom('page.created.json'), SECRET);
    await server.waitForLog((l) => l.msg === 'two');
    expect(server.logs.some((l) => l.msg === 'one')).toBe(false);
    await server.kill();
  });

  it('SIGTERM lets a running action finish before the store closes', async () => {
    const { dir, config, env } = setup({ 'a.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: slow }\n' });
    slack.http.failNext(1, { kind: 'slow', ms: 800 });
    const server = await startServer(config, env);
    const ev = eventFrom('page.created.json');
    expect((await postEvent(`${server.url}/webhook`, ev, SECRET)).status).toBe(200);
    await slack.http.until(() => slack.http.arrived === 1); // the action is under way
    server.proc.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(slack.messages).toHaveLength(1);
    const db = new Database(join(dir, 'store.db'), { readonly: true });
    expect(db.prepare('SELECT status FROM jobs').all()).toEqual([{ status: 'done' }]);
    db.close();
  });
});
