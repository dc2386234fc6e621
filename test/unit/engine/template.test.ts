import { describe, expect, it } from 'vitest';
import { compileTemplate, renderTemplate } from '../../../src/engine/template.js';

const ctx = { page: { title: 'Launch', props: { Estimate: 8, Tags: ['a', 'b'], Approved: true, Due: null } }, event: { id: 'e1' } };
const render = (v: unknown) => renderTemplate(compileTemplate(v, { timeoutMs: 100 }), ctx);

describe('templates', () => {
  it('keep the JSONata type of a value that is exactly one {{ }}', async () => {
    expect(await render('{{ page.props.Estimate }}')).toBe(8);
    expect(await render('{{ page.props.Estimate * 2 }}')).toBe(16);
    expect(await render('{{ page.props.Tags }}')).toEqual(['a', 'b']);
    expect(await render('{{ page.props.Approved }}')).toBe(true);
    expect(await render('{{ page.props }}')).toEqual(ctx.page.props);
    expect(await render(' {{ page.props.Estimate }} ')).toBe(' 8 ');
  });

  it('render text around expressions, and missing fields as empty strings', async () => {
    expect(await render('{{page.title}} ({{ page.props.Estimate }} pts, {{ page.props.Tags }})')).toBe('Launch (8 pts, ["a","b"])');
    expect(await render('owner: {{ page.props.Owner }}!')).toBe('owner: !');
    expect(await render('{{ page.props.Owner }}')).toBe('');
    expect(await render('{{ page.props.Due }}')).toBe(null);
  });

  it('walk nested objects and lists, leaving other values alone', async () => {
    expect(await render({ a: ['{{ event.id }}', 3, false], b: { c: 'x {{ page.title }}' }, d: null })).toEqual({
      a: ['e1', 3, false],
      b: { c: 'x Launch' },
      d: null,
    });
  });
});
