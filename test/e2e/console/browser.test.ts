import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../fakes/slack.js';
import { eventFrom, repoRoot } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

// Debian's chromium; .ci/run installs it. Outside CI a machine without it skips this file, loudly.
const CHROMIUM = process.env.NOTION_RULES_CHROMIUM ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium for the console test`);
if (!haveBrowser) console.warn(`console browser test skipped: no ${CHROMIUM} (apt-get install chromium)`);

const ADMIN = 'admin-token-0123456789abcdef';
const ARTIFACTS = join(repoRoot, 'test/artifacts');

describe.skipIf(!haveBrowser)('the console in a real browser (chromium, JavaScript off)', () => {
  let browser: Browser;
  let slack: FakeSlack;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });
  afterAll(() => browser?.close());
  beforeEach(async () => {
    slack = new FakeSlack();
    slack.knownChannels = new Set(['#general']); // #ship does not exist yet: channel_not_found
    await slack.start();
  });
  afterEach(() => slack.stop());

  it('logs in with the keyboard, opens a dead job, replays it, and the message reaches Slack', async () => {
    const dir = tempDir();
    const rules = rulesDir(
      { 'ship.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "New page {{ event.entity.id }}" }\n' },
      join(dir, 'rules'),
    );
    const watch = new JobWatch();
    const svc = await startTestService(
      testConfig({ rules: { dir: rules }, slack: { token: slack.token, apiUrl: slack.url }, security: { adminToken: ADMIN }, log: { level: 'warn' } }, dir),
      { hooks: watch },
    );
    const event = eventFrom('page.created.json');
    expect((await postEvent(svc.webhook, event, SECRET)).status).toBe(200);
    await watch.until(() => watch.count('dead') === 1);

    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const visited: string[] = [];
    page.on('request', (r) => visited.push(r.url()));

    // Not logged in: the console sends us to its login form.
    await page.goto(`${svc.url}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    // The token field has focus and a label; Enter submits.
    await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.id')).toBe('token');
    expect(await page.getByLabel('Admin token').count()).toBe(1);
    await page.keyboard.type(ADMIN);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${svc.url}/console`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Overview');
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Recent events');
    expect(
      await page
        .getByRole('row')
        .filter({ hasText: event.id as string })
        .getByText('dead')
        .count(),
    ).toBe(1);

    // The dead-letter list names the failure; open the job's event.
    await page.getByRole('link', { name: /Dead letters/ }).click();
    const row = page.getByRole('row').filter({ hasText: 'ship' });
    expect(await row.textContent()).toContain('channel_not_found');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console-dead-letters.png'), fullPage: true });
    await row.getByRole('link', { name: event.id as string }).click();
    const job = page.locator('section.job');
    expect(await job.textContent()).toMatch(/rule ship\s*dead/);
    expect(await job.locator('pre').first().textContent()).toContain('"channel": "#ship"');
    expect(await page.getByRole('table').first().textContent()).toContain('matched');
    await page.screenshot({ path: join(ARTIFACTS, 'console-dead-job.png'), fullPage: true });

    // Fix the cause (the channel exists now), then one click: delivered, once.
    slack.knownChannels!.add('#ship');
    await job.getByRole('button', { name: 'Replay job' }).click();
    await page.waitForURL(/\/console\/events\/.*replayed=1/);
    expect(await page.getByRole('status').textContent()).toContain('1 job queued again');
    await slack.untilMessages(1);
    await watch.until(() => watch.count('done') === 1);
    expect(slack.messages).toEqual([expect.objectContaining({ channel: '#ship', text: `New page ${(event.entity as { id: string }).id}` })]);
    await page.reload();
    expect(await page.locator('section.job').textContent()).toMatch(/rule ship\s*done/);
    await page.screenshot({ path: join(ARTIFACTS, 'console-replayed.png'), fullPage: true });

    // Every page the browser asked for is free of the token.
    expect(visited.length).toBeGreaterThan(4);
    expect(visited.filter((u) => u.includes(ADMIN))).toEqual([]);
    await context.close();
  });

  it('draws the flow: a burst, a Slack outage that pauses the destination, recovery and a failing rule, in charts whose tables match the fakes', async () => {
    const dir = tempDir();
    const rules = rulesDir(
      {
        'notify.yaml': 'id: notify\non: page.created\nactions:\n  - slack: { channel: "#ops", text: "New page {{ event.entity.id }}" }\n',
        'broken.yaml': 'id: broken\non: page.created\nwhen: $error("the condition broke")\nactions:\n  - log: { message: never }\n',
      },
      join(dir, 'rules'),
    );
    const watch = new JobWatch();
    const svc = await startTestService(
      testConfig({ rules: { dir: rules }, slack: { token: slack.token, apiUrl: slack.url }, security: { adminToken: ADMIN }, log: { level: 'warn' } }, dir),
      { hooks: watch },
    );
    slack.knownChannels = undefined;
    // The outage: every call is answered 429 with Retry-After until Slack recovers.
    slack.http.failAll(FakeSlack.rateLimited(2));
    const BURST = 30;
    const sent = await Promise.all(Array.from({ length: BURST }, () => postEvent(svc.webhook, eventFrom('page.created.json'), SECRET)));
    expect(sent.every((r) => r.status === 200)).toBe(true);
    await slack.http.until(() => slack.http.requests.some((r) => r.status === 429));

    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${svc.url}/console/login`);
    await page.getByLabel('Admin token').fill(ADMIN);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${svc.url}/console`);
    const destination = page.locator('tr[data-destination="slack:#ops"]');
    // Paused while Slack answers 429 (each call after a pause is answered 429 again).
    await expect.poll(async () => (await page.reload(), destination.getAttribute('data-state')), { timeout: 30_000 }).toBe('paused');
    expect(await destination.textContent()).toMatch(/paused until \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
    await page.screenshot({ path: join(ARTIFACTS, 'console-overview-paused.png'), fullPage: true });

    // Recovery: every message lands once, and the destination flows again.
    slack.http.recover();
    await slack.untilMessages(BURST, 60_000);
    await watch.until(() => watch.count('done') === BURST);
    await page.reload();
    expect(await destination.getAttribute('data-state')).toBe('flowing');
    const limited = slack.http.requests.filter((r) => r.status === 429).length;
    expect(await columnSum(page, 'chart-events', 'Stored')).toBe(BURST);
    expect(await columnSum(page, 'chart-rules', 'Matched')).toBe(BURST);
    expect(await columnSum(page, 'chart-rules', 'Failed')).toBe(BURST); // the broken rule, once per event
    expect(await columnSum(page, 'chart-actions', 'Delivered')).toBe(slack.messages.length);
    expect(await columnSum(page, 'chart-actions', 'Rate-limited')).toBe(limited);
    expect(await columnSum(page, 'chart-actions', 'Dead')).toBe(0);
    const cells = await destination.locator('td').allTextContents();
    expect(cells.slice(-4).map(Number)).toEqual([BURST, 0, limited, 0]);
    // Each chart is an image with a name, and its table is there for screen readers.
    for (const name of ['Events received', 'Rule matches', 'Action outcomes, all destinations', 'Lag'])
      expect(await page.getByRole('img', { name, exact: true }).count()).toBe(1);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console-overview.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(ARTIFACTS, 'console-overview-dark.png'), fullPage: true });

    // The rules page: each rule's last hour, and its mode.
    await page.getByRole('link', { name: 'Rules', exact: true }).first().click();
    const broken = page.getByRole('row').filter({ hasText: 'broken.yaml' });
    expect(await broken.locator('td.activity').textContent()).toContain(`0 matched · ${BURST} failed · 0 throttled or digested`);
    expect(await page.getByRole('row').filter({ hasText: 'notify.yaml' }).locator('td.activity').textContent()).toContain(`${BURST} matched · 0 failed`);
    await page.screenshot({ path: join(ARTIFACTS, 'console-rules.png'), fullPage: true });
    await context.close();
  });
});

/** The sum of one column of the data table behind chart `id`. */
async function columnSum(page: Page, id: string, column: string): Promise<number> {
  const table = page.locator(`figure#${id} table`);
  const head = await table.locator('thead th').allTextContents();
  const i = head.indexOf(column);
  if (i < 0) throw new Error(`chart ${id} has no column ${column}: ${head.join(', ')}`);
  const values = await table.locator(`tbody tr > :nth-child(${i + 1})`).allTextContents();
  return values.reduce((a, v) => a + Number(v), 0);
}
