import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeNotion } from '../fakes/notion.js';
import { FakeSlack } from '../fakes/slack.js';
import { runCli, startServer, writeConfig } from '../support/child.js';
import { eventFrom } from '../support/fixtures.js';
import { postEvent } from '../support/http.js';
import { rulesDir } from '../support/rules.js';
import { SECRET, UNPACED } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

let slack: FakeSlack;
let notion: FakeNotion;
beforeEach(async () => {
  slack = new FakeSlack();
  notion = new FakeNotion();
  await slack.start();
  await notion.start();
});
afterEach(async () => {
  await slack.stop();
  await notion.stop();
});

function setup(rules: Record<string, string>, delivery: Record<string, unknown> = {}) {
  const dir = tempDir();
  const config = writeConfig(dir, {
    server: { host: '127.0.0.1', port: 0 },
    store: { url: `sqlite:${join(dir, 'store.db')}` },
    rules: { dir: rulesDir(rules, join(dir, 'rules')), watch: false },
    slack: { apiUrl: slack.url, timeoutMs: 1000 },
    notion: { baseUrl: notion.url },
    delivery: { concurrency: 4, maxAttempts: 50, backoff: { baseMs: 50, maxMs: 200 }, limits: UNPACED, ...delivery },
    log: { level: 'info' },
  });
  const env = { NOTION_WEBHOOK_SECRET: SECRET, SLACK_BOT_TOKEN: slack.token, NOTION_TOKEN: notion.token };
  return { dir, config, env };
}

describe('crash safety of delivery (child process, SIGKILL)', () => {
  it('jobs pending at a SIGKILL are all delivered exactly once after restart', async () => {
    const { config, env } = setup({ 'a.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n' });
    const server = await startServer(config, env);
    slack.http.failAll(FakeSlack.serverError(500));
    const events = Array.from({ length: 50 }, () => eventFrom('page.created.json'));
    const answers = await Promise.all(events.map((e) => postEvent(`${server.url}/webhook`, e, SECRET)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // Some jobs tried and failed; the breaker holds the rest back: all 50 are pending in the store.
    await slack.http.until(() => slack.attempts >= 6);
    server.proc.kill('SIGKILL');
    await server.exited;
    expect(slack.messages).toHaveLength(0);

    slack.http.recover();
    const again = await startServer(config, env);
    await slack.untilMessages(50);
    const res = await runCli(['events', '--status', 'processed', '--json', '--config', config], env);
    const processed = JSON.parse(res.stdout) as unknown[];
    expect(processed).toHaveLength(50);
    expect(slack.messages.map((m) => m.text).sort()).toEqual(events.map((e) => String(e.id)).sort());
    expect(await again.kill()).toMatchObject({ code: 0 });
    expect(slack.messages).toHaveLength(50); // nothing more arrived while shutting down
  });

  it('events --status dead shows the error; replay ID while the server runs delivers it', async () => {
    const { config, env } = setup({
      'a.yaml': 'id: ship\non: page.created\nactions:\n  - log: { message: first }\n  - slack: { channel: "#gone", text: "hi {{ event.id }}" }\n',
    });
    slack.knownChannels = new Set();
    const server = await startServer(config, env);
    const ev = eventFrom('page.created.json');
    await postEvent(`${server.url}/webhook`, ev, SECRET);
    await server.waitForLog((l) => l.msg.startsWith('action failed; job is dead'));

    const dead = await runCli(['events', '--status', 'dead', '--config', config], env);
    expect(dead.code).toBe(0);
    expect(dead.stdout).toContain(`dead      ${String(ev.id)}  page.created  jobs 0/1 done, 1 dead`);
    expect(dead.stdout).toContain('rule ship, action 2 (slack): slack: channel_not_found');

    slack.knownChannels.add('#gone');
    const replay = await runCli(['replay', String(ev.id), '--config', config], env);
    expect(replay).toMatchObject({ code: 0, stdout: expect.stringContaining('1 job(s) of') });
    await slack.untilMessages(1);
    expect(slack.messages[0]!.text).toBe(`hi ${String(ev.id)}`);
    // Resumed at the failed action: the log action before it ran once.
    expect(server.logs.filter((l) => l.msg === 'first')).toHaveLength(1);
    expect((await runCli(['replay', '--config', config], env)).code).toBe(2);
    await server.kill();
  });

  it('replay --dead --rerender sends the dead job as the fixed rule renders it, from the failed action, recorded as re-rendered', async () => {
    const { dir, config, env } = setup({
      'a.yaml': 'id: ship\non: page.created\nactions:\n  - log: { message: first }\n  - slack: { channel: "#typo", text: "hi {{ event.id }}" }\n',
    });
    slack.knownChannels = new Set(['#ship']);
    const server = await startServer(config, env);
    const ev = eventFrom('page.created.json');
    await postEvent(`${server.url}/webhook`, ev, SECRET);
    await server.waitForLog((l) => l.msg.startsWith('action failed; job is dead'));

    // The operator fixes the channel in the rule file (the running server need not reload).
    writeFileSync(
      join(dir, 'rules', 'a.yaml'),
      'id: ship\non: page.created\nactions:\n  - log: { message: first }\n  - slack: { channel: "#ship", text: "hi again {{ event.id }}" }\n',
    );
    const plain = await runCli(['replay', '--rerender', '--config', config], env);
    expect(plain.code).toBe(2); // --rerender is for dead jobs: an event id or --dead
    const replay = await runCli(['replay', '--dead', '--rerender', '--config', config], env);
    expect(replay).toMatchObject({ code: 0, stdout: expect.stringMatching(/^1 dead job\(s\) re-rendered from rules version [0-9a-f]+ and queued again/m) });
    await slack.untilMessages(1);
    expect(slack.messages[0]).toMatchObject({ channel: '#ship', text: `hi again ${String(ev.id)}` });
    expect(server.logs.filter((l) => l.msg === 'first')).toHaveLength(1); // resumed at the failed action
    await server.kill();
    const store = await openStore(`sqlite:${join(dir, 'store.db')}`);
    const [job] = await store.getJobs(String(ev.id));
    expect((await store.getAttempts(job!.id)).map((a) => [a.outcome, a.actionIndex])).toEqual([
      ['ok', 0],
      ['dead', 1],
      ['rerendered', 1],
      ['ok', 1],
    ]);
    await store.close();
  });

  it('search QUERY finds indexed pages from the command line', async () => {
    const { config, env } = setup({
      'a.yaml':
        'id: idx\non: page.created\nfetch: [page, content]\nactions:\n  - search.index: { title: "{{ page.title }}", text: "{{ content }}", url: "{{ page.url }}" }\n',
    });
    notion.addPage('1f8e2d3c-4b5a-4697-8877-665544332211');
    const server = await startServer(config, env);
    await postEvent(`${server.url}/webhook`, eventFrom('page.created.json'), SECRET);
    await server.waitForLog((l) => l.msg === 'notion-rules listening');
    let out = '';
    await expect
      .poll(async () => {
        out = (await runCli(['search', 'checklist', '--config', config], env)).stdout;
        return out;
      })
      .toContain('Launch plan Q1');
    expect(out).toContain('[checklist]');
    await server.kill();
  });
});
