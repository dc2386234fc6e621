import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open.js';
import { runCli, startServer } from '../../support/child.js';
import { useChildService } from '../../support/child-service.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { SECRET } from '../../support/server.js';

const { fakes, setup } = useChildService();

describe('operations from the command line while the server runs (events, replay, search)', () => {
  it('events --status dead shows the error; replay ID while the server runs delivers it', async () => {
    const { config, env } = setup({
      'a.yaml': 'id: ship\non: page.created\nactions:\n  - log: { message: first }\n  - slack: { channel: "#gone", text: "hi {{ event.id }}" }\n',
    });
    fakes.slack.knownChannels = new Set();
    const server = await startServer(config, env);
    const ev = eventFrom('page.created.json');
    await postEvent(`${server.url}/webhook`, ev, SECRET);
    await server.waitForLog((l) => l.msg.startsWith('action failed; job is dead'));

    const dead = await runCli(['events', '--status', 'dead', '--config', config], env);
    expect(dead.code).toBe(0);
    expect(dead.stdout).toContain(`dead      ${String(ev.id)}  page.created  jobs 0/1 done, 1 dead`);
    expect(dead.stdout).toContain('rule ship, action 2 (slack): slack: channel_not_found');

    fakes.slack.knownChannels.add('#gone');
    const replay = await runCli(['replay', String(ev.id), '--config', config], env);
    expect(replay).toMatchObject({ code: 0, stdout: expect.stringContaining('1 job(s) of') });
    await fakes.slack.untilMessages(1);
    expect(fakes.slack.messages[0]!.text).toBe(`hi ${String(ev.id)}`);
    // Resumed at the failed action: the log action before it ran once.
    expect(server.logs.filter((l) => l.msg === 'first')).toHaveLength(1);
    expect((await runCli(['replay', '--config', config], env)).code).toBe(2);
    await server.kill();
  });

  it('replay --dead --rerender sends the dead job as the fixed rule renders it, from the failed action, recorded as re-rendered', async () => {
    const { dir, config, env } = setup({
      'a.yaml': 'id: ship\non: page.created\nactions:\n  - log: { message: first }\n  - slack: { channel: "#typo", text: "hi {{ event.id }}" }\n',
    });
    fakes.slack.knownChannels = new Set(['#ship']);
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
    await fakes.slack.untilMessages(1);
    expect(fakes.slack.messages[0]).toMatchObject({ channel: '#ship', text: `hi again ${String(ev.id)}` });
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
    fakes.notion.addPage('1f8e2d3c-4b5a-4697-8877-665544332211');
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

describe('pause, resume and audit from the command line while the server runs', () => {
  it('a rule paused by the CLI makes no jobs in the running server; resume and audit', async () => {
    const { config, env } = setup({
      'a.yaml': 'id: ship\non: page.created\nactions:\n  - log: { message: "ship {{ event.id }}" }\n',
    });
    const server = await startServer(config, env);
    const typo = await runCli(['pause', 'shp', '--config', config], env);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toBe('notion-rules: pause: no rule "shp" in the active rules (did you mean "ship"?)\n');
    expect((await runCli(['pause', 'ship', '--until', 'soon', '--config', config], env)).code).toBe(2);
    const paused = await runCli(['pause', 'ship', '--until', '2h', '--reason', 'migration', '--json', '--config', config], env);
    expect(paused.code).toBe(0);
    expect(JSON.parse(paused.stdout)).toMatchObject({ rule: 'ship', until: expect.stringMatching(/^20\d\d-/) });

    const held = eventFrom('page.created.json');
    await postEvent(`${server.url}/webhook`, held, SECRET);
    const heldEvent = async () =>
      (JSON.parse((await runCli(['events', '--json', '--config', config], env)).stdout) as Array<{ id: string; status: string; jobs: { total: number } }>).find(
        (e) => e.id === held.id,
      );
    await expect.poll(async () => (await heldEvent())?.status, { timeout: 30_000 }).toBe('processed');
    const listed = [(await heldEvent())!];
    expect(listed.find((e) => e.id === held.id)!.jobs.total).toBe(0);

    expect(await runCli(['resume', 'ship', '--config', config], env)).toMatchObject({ code: 0, stdout: 'rule ship resumed\n' });
    expect((await runCli(['resume', 'ship', '--config', config], env)).code).toBe(1);
    const sent = eventFrom('page.created.json');
    await postEvent(`${server.url}/webhook`, sent, SECRET);
    await server.waitForLog((l) => l.msg === `ship ${String(sent.id)}`);

    const audit = JSON.parse((await runCli(['audit', '--json', '--config', config], env)).stdout) as Array<{
      action: string;
      ruleId: string | null;
      source: string;
    }>;
    expect(audit.map((e) => [e.action, e.ruleId, e.source])).toEqual([
      ['resume', 'ship', 'cli'],
      ['pause', 'ship', 'cli'],
      ['reload', null, 'start'],
    ]);
    const text = await runCli(['audit', '--config', config], env);
    expect(text.stdout.split('\n')[1]).toMatch(/^\S+Z {2}pause {3}ship {21}by cli {2}until \S+Z \(migration\)$/);
    await server.kill();
  });
});
