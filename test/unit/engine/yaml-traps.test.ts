import { describe, expect, it } from 'vitest';
import { parseRuleFile } from '../../../src/engine/rule-file.js';

const errors = (text: string) => parseRuleFile(text).docs.flatMap((d) => d.errors);

describe('YAML traps are explained with the fix', () => {
  it('an unquoted # that cuts a value or empties it, an unquoted {{ … }} and a value starting with @ each say to quote it', () => {
    expect(errors('id: a\ndescription: Tell #ship when done\n')).toEqual([
      {
        line: 2,
        message: 'YAML: description: an unquoted " #" starts a YAML comment, so the value was cut to "Tell"; quote it: description: "Tell #ship when done"',
      },
    ]);
    expect(errors('actions:\n  - slack:\n      channel: #ship\n')).toEqual([
      { line: 3, message: 'YAML: channel: an unquoted #ship is read as a YAML comment, so the value is empty; quote it: channel: "#ship"' },
    ]);
    expect(errors('text: {{ page.title }}\n')).toEqual([
      { line: 1, message: 'YAML: text: an unquoted {{ … }} is read as a YAML mapping; quote the value: text: "{{ page.title }}"' },
    ]);
    expect(errors('text: @here deploy\n')).toEqual([{ line: 1, message: 'YAML: a plain value cannot start with @; quote the value: text: "@here deploy"' }]);
  });

  it('leaves real comments, quoted values and flow mappings alone', () => {
    expect(errors('on: page.created # a comment\nchannel: "#ship"\ntext: "{{ page.title }}"\nslack: { channel: "#x", text: hi }\n')).toEqual([]);
  });
});
