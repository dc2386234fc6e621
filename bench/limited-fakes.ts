/**
 * Fake Slack and Notion (test/fakes) enforcing the documented limits, in their own process, for
 * the bulk-edit scenario: Slack chat.postMessage 1 message/s per channel with bursts of 4, Notion
 * 3 requests/s per token with bursts of 9, both answering 429 with Retry-After over them.
 * `node limited-fakes.js PAGES` adds PAGES pages (page-0 … ), prints `listening SLACK_URL
 * SLACK_TOKEN NOTION_URL NOTION_TOKEN`, then `progress MESSAGES COMMENTS SLACK_CALLS SLACK_429
 * NOTION_CALLS NOTION_429 MS` whenever a message or comment arrives.
 */
import { readFileSync } from 'node:fs';
import { FakeNotion } from '../test/fakes/notion.js';
import { FakeSlack } from '../test/fakes/slack.js';
import { pageId } from './limited-fakes-ids.js';

const pages = Number(process.argv[2] ?? 200);
const root = new URL('../../', import.meta.url); // dist-bench/bench → repo
const fixture = readFileSync(new URL('test/fixtures/notion/page.json', root), 'utf8');
const slack = new FakeSlack();
const notion = new FakeNotion();
slack.limitPerChannel(1, 4);
notion.limit(3, 9);
for (let i = 0; i < pages; i++) {
  const page = JSON.parse(fixture) as Record<string, unknown>;
  page.id = pageId(i);
  notion.pages.set(pageId(i), page);
}
const slackUrl = await slack.start();
const notionUrl = await notion.start();
process.stdout.write(`listening ${slackUrl} ${slack.token} ${notionUrl} ${notion.token}\n`);

let reported = '';
const report = () => {
  const line = `progress ${slack.messages.length} ${notion.comments.length} ${slack.attempts} ${slack.limited} ${notion.http.requests.length} ${notion.limited}`;
  const key = `${slack.messages.length} ${notion.comments.length}`;
  if (key !== reported) {
    reported = key;
    process.stdout.write(`${line} ${Date.now()}\n`);
  }
  return false;
};
slack.http.until(report, 3_600_000).catch(() => {});
notion.http.until(report, 3_600_000).catch(() => {});
process.on('SIGTERM', () => void Promise.all([slack.stop(), notion.stop()]).then(() => process.exit(0)));
