import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useFakes } from '../../support/fakes.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

const ADMIN = 'admin-token-lag-0123456789abc';
const auth = { headers: { authorization: `Bearer ${ADMIN}` } };
const fakes = useFakes();

async function service(rules: Record<string, string>) {
  const dir = tempDir();
  return startTestService(
    testConfig(
      {
        rules: { dir: rulesDir(rules, join(dir, 'rules')) },
        slack: { token: fakes.slack.token, apiUrl: fakes.slack.url, timeoutMs: 60_000 },
        notion: { token: fakes.notion.token, baseUrl: fakes.notion.url, timeoutMs: 60_000 },
        delivery: { concurrency: 1 },
        health: { maxLagMs: 300 },
        server: { shutdownTimeoutMs: 200 },
        security: { adminToken: ADMIN },
        log: { level: 'fatal' },
      },
      dir,
    ),
  );
}

describe('/health and /metrics report how far behind the service is (health.maxLagMs)', () => {
  it('a job queue that falls behind makes /health degraded with the reason', async () => {
    fakes.slack.http.failAll({ kind: 'hang' }); // Slack stops answering: one job runs, the rest wait
    const svc = await service({ 'ship.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n' });
    for (let i = 0; i < 3; i++) await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await expect
      .poll(async () => ((await (await fetch(`${svc.url}/health`, auth)).json()) as { reasons?: string[] }).reasons ?? [], { timeout: 10_000 })
      .toContainEqual(expect.stringMatching(/^the oldest due job has waited \d+ s \(health\.maxLagMs: 300 ms\); 2 jobs pending$/));
    const health = (await (await fetch(`${svc.url}/health`, auth)).json()) as { status: string; queue: { jobLagMs: number } };
    expect(health.status).toBe('degraded');
    expect(health.queue.jobLagMs).toBeGreaterThan(300);
    const lag = /^notion_rules_job_lag_seconds (\S+)$/m.exec(await (await fetch(`${svc.url}/metrics`, auth)).text());
    expect(Number(lag![1])).toBeGreaterThan(0.3);
  });

  it('events that wait for their match (Notion hangs) make /health degraded with the reason', async () => {
    fakes.notion.http.failAll({ kind: 'hang' });
    const svc = await service({ 'page.yaml': 'id: page\non: page.created\nfetch: page\nactions:\n  - log: { message: x }\n' });
    await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await expect
      .poll(async () => ((await (await fetch(`${svc.url}/health`, auth)).json()) as { reasons?: string[] }).reasons ?? [], { timeout: 10_000 })
      .toContainEqual(expect.stringMatching(/^the oldest event not yet matched arrived \d+ s ago \(health\.maxLagMs: 300 ms\); 1 awaiting a match$/));
    expect(Number(/^notion_rules_match_lag_seconds (\S+)$/m.exec(await (await fetch(`${svc.url}/metrics`, auth)).text())![1])).toBeGreaterThan(0.3);
  });
});
