/**
 * The fake Slack (test/fakes/slack.ts) in its own process, so the load generator and the fake do
 * not share a thread. `node slack-server.js N1 N2 …` prints `listening URL TOKEN`, then `delivered
 * COUNT DISTINCT LAST_MS` when the count of messages reaches each N, and again for any message
 * after the last N (a duplicate shows).
 */
import { FakeSlack } from '../test/fakes/slack.js';

const thresholds = process.argv
  .slice(2)
  .map(Number)
  .sort((a, b) => a - b);
const slack = new FakeSlack();
const url = await slack.start();
process.stdout.write(`listening ${url} ${slack.token}\n`);
const seen = new Set<string>();
let reported = 0;
let scanned = 0; // messages already in `seen` (a repeated text must not make each check rescan them)
slack.http
  .until(() => {
    for (; scanned < slack.messages.length; scanned++) {
      const m = slack.messages[scanned]!;
      seen.add(m.text ?? m.ts);
    }
    const count = slack.messages.length;
    const due = thresholds.some((t) => t > reported && t <= count) || (count > reported && reported >= thresholds.at(-1)!);
    if (due) {
      reported = count;
      process.stdout.write(`delivered ${count} ${seen.size} ${Date.now()}\n`);
    }
    return false;
  }, 3_600_000)
  .catch(() => {});
process.on('SIGTERM', () => void slack.stop().then(() => process.exit(0)));
