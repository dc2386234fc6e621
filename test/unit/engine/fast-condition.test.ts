import fc from 'fast-check';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../../src/engine/expression.js';
import { compileFast, FALLBACK } from '../../../src/engine/fast-condition.js';

const KEYS = ['a', 'b', 'n', 's', 'o'] as const;

// JSON-like values, with the shapes that make JSONata's semantics interesting: missing keys,
// null, arrays (also nested), objects, and numbers and strings that compare.
const leaf = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -2, max: 3 }), fc.constantFrom('', 'x', 'y', 'Done', '3'));
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('v'), { maxKeys: 3 }),
  ),
})).v;
const input = fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 5 });

// Expressions of the fast subset, as JSONata source.
const path = fc
  .array(fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom('', '[0]', '[1]', '[0][0]')), { minLength: 1, maxLength: 3 })
  .map((steps) => steps.map(([k, i]) => k + i).join('.'));
const literal = fc.oneof(fc.constantFrom('null', 'true', 'false', '""', '"x"', '"Done"', '"3"'), fc.integer({ min: -2, max: 3 }).map(String));
const expression: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    path,
    literal,
    fc.tuple(tie('e'), fc.constantFrom('=', '!=', '<', '<=', '>', '>=', 'and', 'or', 'in'), tie('e')).map(([l, op, r]) => `(${l} ${op} ${r})`),
    tie('e').map((e) => `$not(${e})`),
    tie('e').map((e) => `$exists(${e})`),
  ),
})).e;

async function viaJsonata(source: string, data: unknown): Promise<{ value: unknown } | { error: string }> {
  try {
    return { value: await jsonata(source).evaluate(data) };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? String(err) };
  }
}

describe('the fast condition evaluator', () => {
  it("gives JSONata's answer whenever it answers (fast-check: 3,000 generated conditions and inputs)", async () => {
    let answered = 0;
    let total = 0;
    await fc.assert(
      fc.asyncProperty(expression, input, async (source, data) => {
        const fast = compileFast(jsonata(source).ast());
        expect(fast, source).toBeDefined(); // every generated expression is in the subset
        total++;
        const got = fast!(data);
        if (got === FALLBACK) return;
        answered++;
        const want = await viaJsonata(source, data);
        expect(want, `${source} on ${JSON.stringify(data)}`).toEqual({ value: got });
      }),
      { numRuns: 3000 },
    );
    // Not a test that passes by declining: most generated conditions are answered without JSONata.
    expect(answered / total).toBeGreaterThan(0.5);
  });

  it('declines what it does not reproduce, at compile time or for the value at hand', () => {
    for (const source of ['$contains(a, "x")', 'a.b[n]', '-n', 'a[-1]', '$x', '(a; b)', 'a & b', 'a ? b : n', '$lowercase(s) = "x"', 'a[b = 1]']) {
      expect(compileFast(jsonata(source).ast()), source).toBeUndefined();
    }
    const fast = compileFast(jsonata('a.b = 1').ast())!;
    expect(fast({ a: [{ b: 1 }] })).toBe(FALLBACK); // JSONata maps the path over the array
    expect(compileFast(jsonata('n > s').ast())!({ n: 1, s: 'x' })).toBe(FALLBACK); // JSONata's type error
    expect(compileFast(jsonata('o = o').ast())!({ o: { p: 1 } })).toBe(FALLBACK); // deep equality
  });

  it('reads own members only, as JSONata does: inherited names are missing', async () => {
    for (const source of ['$exists(event.data.constructor)', '$exists(event.toString)', '$exists(event.__proto__)', 'event.data.hasOwnProperty = 1']) {
      const fast = compileFast(jsonata(source).ast())!;
      const data = { event: { data: { id: 'x' } } };
      const got = fast(data);
      expect(got, source).not.toBe(FALLBACK);
      expect({ value: got }, source).toEqual(await viaJsonata(source, data));
    }
  });

  it('makes rule conditions answer as before, errors included', async () => {
    const cond = compileExpression('page.props.Status = "Done" and ("Status" in changed or event.type = "page.updated") and $not(event.stale)', {
      timeoutMs: 100,
    });
    expect(await cond.evaluate({ page: { props: { Status: 'Done' } }, changed: ['Status'], event: { type: 'page.properties_updated', stale: false } })).toBe(
      true,
    );
    expect(await cond.evaluate({ page: { props: { Status: 'Done' } }, changed: [], event: { type: 'page.properties_updated', stale: false } })).toBe(false);
    expect(await cond.explain({ page: { props: { Status: 'Open' } }, changed: ['Name'], event: { type: 'x' } })).toEqual({
      'page.props.Status': 'Open',
      changed: ['Name'],
      'event.type': 'x',
      'event.stale': null,
    });
    // An index is part of the path; a filter shows the array it filtered; a large value is described.
    const indexed = compileExpression('event.authors[0].type = "bot" and event.authors[type = "person"].id = "u" and $exists(page)', { timeoutMs: 100 });
    const authors = [{ id: 'u', type: 'person' }];
    expect(await indexed.explain({ event: { authors }, page: { title: 'x'.repeat(600) } })).toEqual({
      'event.authors[0].type': 'person',
      'event.authors': authors,
      page: '(object, 612 bytes as JSON, not kept)',
    });
    // Mismatched types still fail the way JSONata fails them.
    await expect(compileExpression('page.props.Priority > "2"', { timeoutMs: 100 }).evaluate({ page: { props: { Priority: 3 } } })).rejects.toThrow(
      /T2009|type|same type/i,
    );
  });
});
