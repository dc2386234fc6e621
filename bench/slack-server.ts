/**
 * The fake Slack (test/fakes/slack.ts) in its own process, so the load generator and the fake do
 * not share a thread. `node slack-server.js N` prints `listening URL`, then `delivered COUNT
 * DISTINCT LAST_MS` once N messages arrived (and again for any later one: a duplicate shows).
 */
import { FakeSlack } from '../test/fakes/slack.js';

const expected = Number(process.argv[2] ?? 0);
const slack = new FakeSlack();
const url = await slack.start();
process.stdout.write(`listening ${url} ${slack.token}\n`);
const seen = new Set<string>();
let last = 0;
slack.http.until(() => {
  for (const m of slack.messages.slice(seen.size)) seen.add(m.text ?? m.ts);
  if (slack.messages.length >= expected && slack.messages.length > last) {
    last = slack.messages.length;
    process.stdout.write(`delivered ${slack.messages.length} ${seen.size} ${Date.now()}\n`);
  }
  return false;
}, 3_600_000).catch(() => {});
process.on('SIGTERM', () => void slack.stop().then(() => process.exit(0)));
