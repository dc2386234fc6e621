import { describe, expect, it } from 'vitest';
import { blocksText, changedNames, pageView } from '../../../src/engine/props.js';
import { notionFixture } from '../../support/fixtures.js';

describe('page props from realistic Notion page JSON', () => {
  it('gives a plain value for every common property type', () => {
    const view = pageView(notionFixture('page.json'));
    expect(view.title).toBe('Launch plan Q1');
    expect(view.url).toBe('https://www.notion.so/Launch-plan-Q1-1f8e2d3c4b5a46978877665544332211');
    expect({ ...view.props }).toEqual({
      Name: 'Launch plan Q1', // title
      Summary: 'Ship the new onboarding flow', // rich_text
      Status: 'Done', // status
      Priority: 'High', // select
      Tags: ['growth', 'web'], // multi_select
      Estimate: 8, // number
      Approved: true, // checkbox
      Due: '2026-12-01', // date
      Owner: ['Ada Lovelace'], // people
      Spec: 'https://example.com/spec', // url
      Contact: 'team@example.com', // email
      Phone: '+1 555 0100', // phone_number
      'Blocked by': ['22223333-4444-4555-8666-777788889999'], // relation ids
      'Days left': 7, // formula
      'Open subtasks': 3, // rollup
      Attachments: ['brief.pdf'], // files
      Ticket: 'ENG-42', // unique_id
      Created: '2026-11-20T13:58:00.000Z', // created_time
      'Edited by': 'decaf000-7777-4888-9999-aaaabbbbcccc', // last_edited_by (no name: the id)
    });
  });

  it('handles empty values and rollups of arrays', () => {
    const view = pageView({
      properties: {
        S: { type: 'select', select: null },
        D: { type: 'date', date: null },
        F: { type: 'formula', formula: { type: 'date', date: { start: '2026-01-02' } } },
        R: {
          type: 'rollup',
          rollup: {
            type: 'array',
            array: [
              { type: 'title', title: [{ plain_text: 'A' }] },
              { type: 'number', number: 2 },
            ],
          },
        },
        P: { type: 'people', people: [{ object: 'user', id: 'u1' }] },
      },
    });
    expect({ ...view.props }).toEqual({ S: null, D: null, F: '2026-01-02', R: ['A', 2], P: ['u1'] });
    expect(view.title).toBe('');
  });

  it('resolves updated_properties ids (URL-encoded) to names', () => {
    const page = notionFixture('page.json');
    expect(changedNames(page, ['%3AUPp', 'title'])).toEqual(['Status', 'Name']);
    expect(changedNames(page, [{ id: 'AbCd', name: 'Priority', action: 'updated' }])).toEqual(['Priority']);
    expect(changedNames(page, ['unknown'])).toEqual([]);
  });

  it('turns blocks into text, one block a line', () => {
    expect(blocksText(notionFixture('blocks.children.json'))).toMatch(/^Goals\nReduce time to first value for new workspaces\.\nWrite the welcome checklist/);
  });
});
