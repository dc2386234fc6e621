import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
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
});
