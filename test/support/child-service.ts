import { join } from 'node:path';
import { writeConfig } from './child.js';
import { useFakes } from './fakes.js';
import { rulesDir } from './rules.js';
import { SECRET, UNPACED } from './server.js';
import { tempDir } from './tmp.js';

/**
 * For tests of the service as a child process: a fresh fake Slack and Notion per test, and
 * `setup(rules)` writing a config file (SQLite in a temporary folder, unpaced, short back-off) and
 * the environment to start it with.
 */
export function useChildService() {
  const fakes = useFakes();
  const setup = (rules: Record<string, string>, delivery: Record<string, unknown> = {}) => {
    const dir = tempDir();
    const config = writeConfig(dir, {
      server: { host: '127.0.0.1', port: 0 },
      store: { url: `sqlite:${join(dir, 'store.db')}` },
      rules: { dir: rulesDir(rules, join(dir, 'rules')), watch: false },
      slack: { apiUrl: fakes.slack.url, timeoutMs: 1000 },
      notion: { baseUrl: fakes.notion.url },
      delivery: { concurrency: 4, maxAttempts: 50, backoff: { baseMs: 50, maxMs: 200 }, limits: UNPACED, ...delivery },
      log: { level: 'info' },
    });
    const env = { NOTION_WEBHOOK_SECRET: SECRET, SLACK_BOT_TOKEN: fakes.slack.token, NOTION_TOKEN: fakes.notion.token };
    return { dir, config, env };
  };
  return { fakes, setup };
}
