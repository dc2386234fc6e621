import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../../src/actions/registry.js';
import { repoRoot } from '../../support/fixtures.js';

interface Schema {
  $defs: Record<string, { properties?: Record<string, unknown>; oneOf?: unknown[] } & { properties?: Record<string, unknown> }>;
}

const schema = JSON.parse(readFileSync(join(repoRoot, 'schemas/rule.schema.json'), 'utf8')) as Schema;
const actionProperties = (schema.$defs.action as { properties: Record<string, { $ref: string }> }).properties;

describe('each action is declared once: registry and rule schema agree', () => {
  it('the rule schema accepts exactly the declared action types, each with its own parameter schema', () => {
    expect(Object.keys(actionProperties).sort()).toEqual(ACTIONS.map((a) => a.type).sort());
    for (const a of ACTIONS) {
      expect(actionProperties[a.type]!.$ref, a.type).toBe(`#/$defs/${a.type}`);
      expect(schema.$defs[a.type], `$defs.${a.type}`).toBeDefined();
    }
  });

  it('every secret parameter is one the action takes', () => {
    for (const a of ACTIONS) {
      const props = JSON.stringify(schema.$defs[a.type]);
      for (const p of a.secretParams) expect(props, `${a.type}.${p}`).toContain(`"${p}"`);
    }
  });

  it("the README's rule reference documents every action type", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const a of ACTIONS) expect(readme, a.type).toContain(`\`${a.type}\``);
  });
});
