import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventTypes } from '../../../src/engine/event-types.js';
import { repoRoot } from '../../support/fixtures.js';

describe('the rule schema completes event types in editors', () => {
  it('offers every event type notion-rules knows (and families, * and schedule) as examples of `on`', () => {
    const schema = JSON.parse(readFileSync(join(repoRoot, 'schemas/rule.schema.json'), 'utf8')) as { $defs: { eventType: { examples: string[] } } };
    const types = JSON.parse(readFileSync(join(repoRoot, 'schemas/event-types.json'), 'utf8')) as Record<string, unknown>;
    const known = Object.values(types).filter(Array.isArray).flat() as string[];
    const examples = schema.$defs.eventType.examples;
    expect(new Set(examples)).toEqual(new Set([...known, 'page.*', 'database.*', 'data_source.*', 'comment.*', 'block.*', '*', 'schedule']));
    const check = new EventTypes();
    for (const t of examples.filter((x) => x !== 'schedule')) expect(check.isKnown(t), t).toBe(true);
  });
});
