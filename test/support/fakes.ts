import { afterEach, beforeEach } from 'vitest';
import { FakeNotion } from '../fakes/notion.js';
import { FakeSlack } from '../fakes/slack.js';

/**
 * A fresh fake Slack and fake Notion (with the fixture page under `page`) for every test of the
 * file, stopped after it. Call at the top of a test file; read them inside tests.
 */
export function useFakes(page?: string): { readonly slack: FakeSlack; readonly notion: FakeNotion } {
  const fakes = {} as { slack: FakeSlack; notion: FakeNotion };
  beforeEach(async () => {
    fakes.slack = new FakeSlack();
    fakes.notion = new FakeNotion();
    await fakes.slack.start();
    await fakes.notion.start();
    if (page) fakes.notion.addPage(page);
  });
  afterEach(async () => {
    await fakes.slack.stop();
    await fakes.notion.stop();
  });
  return fakes;
}
