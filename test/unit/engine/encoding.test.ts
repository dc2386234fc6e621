import { describe, expect, it } from 'vitest';
import { evaluateEvent } from '../../../src/engine/evaluate.js';
import { normalize } from '../../../src/model/normalize.js';
import { notionFixture } from '../../support/fixtures.js';
import { ruleSetOf } from '../../support/rules.js';

const hostile = '<!channel> & <@U0123> <https://evil.example|Open in Notion>';
const event = normalize({ ...notionFixture<Record<string, unknown>>('page.created.json'), data: { title: hostile } });

async function rendered(action: string): Promise<Record<string, unknown>> {
  const ruleSet = ruleSetOf({ 'a.yaml': `id: r\non: page.created\nactions:\n  - ${action}\n` });
  const [o] = await evaluateEvent(ruleSet, event);
  if (!o || !o.matched) throw new Error(`not matched: ${JSON.stringify(o)}`);
  return o.actions[0]!.params;
}

describe('template values are encoded for where they land', () => {
  it('Slack text: event content cannot mention anyone or disguise a link; the rule’s own markup stays', async () => {
    expect((await rendered('slack: { channel: "#x", text: "<!here> {{ event.data.title }} is *done*" }')).text).toBe(
      '<!here> &lt;!channel&gt; &amp; &lt;@U0123&gt; &lt;https://evil.example|Open in Notion&gt; is *done*',
    );
    expect((await rendered('slack: { channel: "#x", text: "{{ event.data.title }}" }')).text).toBe(
      '&lt;!channel&gt; &amp; &lt;@U0123&gt; &lt;https://evil.example|Open in Notion&gt;',
    );
  });

  it('Slack blocks: text objects are escaped too', async () => {
    const params = await rendered('slack: { channel: "#x", blocks: [{ type: section, text: { type: mrkdwn, text: "*{{ event.data.title }}*" } }] }');
    expect(params.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*&lt;!channel&gt; &amp; &lt;@U0123&gt; &lt;https://evil.example|Open in Notion&gt;*' } },
    ]);
  });

  it('{{{ raw }}} inserts a value as it is, for rules that build markup from trusted fields', async () => {
    expect((await rendered('slack: { channel: "#x", text: "{{{ event.data.title }}}" }')).text).toBe(hostile);
  });

  it('JSON bodies and other parameters stay plain values', async () => {
    expect((await rendered('http: { url: "https://hooks.example.com/x", body: { title: "{{ event.data.title }}", n: "{{ 1 + 1 }}" } }')).body).toEqual({
      title: hostile,
      n: 2,
    });
    expect((await rendered('log: { message: "{{ event.data.title }}" }')).message).toBe(hostile);
  });
});
