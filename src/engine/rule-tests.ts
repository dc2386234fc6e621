import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { NotionEvent } from '../model/event.js';
import { evaluateEvent } from './evaluate.js';
import { simulate } from './simulate.js';
import type { RuleSet } from './rule-set.js';
import type { PageSnapshot } from '../model/snapshot.js';
import { commentView } from './props.js';
import { orList, suggest } from '../util/suggest.js';
import type { Fact, FactSource } from './types.js';

/**
 * Rule unit tests: `*.test.yaml` files, one case per YAML document.
 *
 *   name: done tasks are announced
 *   event: fixtures/page.properties_updated.json   # a file (relative to this one) or a mapping
 *   page: fixtures/page.json                        # optional: what GET /v1/pages/:id returns
 *   content: "Goals\nReduce time to first value"    # optional: the page's text
 *   before: { title: Launch plan Q1, props: { Status: In review } }  # optional: the page as last seen
 *   comment: fixtures/comment.json                  # optional: what GET /v1/comments/:id returns (as `comment`)
 *   authors: [{ id: c0ffee00-…, name: Ada, type: person, email: ada@example.com }]  # optional
 *   now: 2026-11-20T14:00:00Z                        # optional: fixes `now`
 *   events: [a.json, b.json]                        # instead of event: throttle, digest, delays simulated
 *   expect: { runs: { digest-rule: 1 } }            #   over them (their own times), runs counted per rule
 *   expect:
 *     matched: [announce-done]                      # these rules fire (others may too)
 *     notMatched: [triage-new-bugs]                 # these rules do not fire
 *     exclusive: true                               # optional: no rule outside `matched` fires
 *     actions:                                      # optional, per rule: each listed key must equal
 *       announce-done:
 *         - slack: { channel: "#ship", text: "✅ Launch plan Q1 is done" }
 */
export interface RuleTestCase {
  file: string;
  line: number;
  name: string;
  event: NotionEvent;
  /** Several events (`events:`): throttle, digest and delays simulated over them, up to `now`. */
  events?: NotionEvent[];
  /** With `events`: how often each rule's actions run. */
  expectRuns?: Record<string, number>;
  facts: Partial<Record<Fact, unknown>>;
  now?: Date;
  expectMatched?: string[];
  expectNotMatched?: string[];
  /** `exclusive: true`: the rules in `matched` are the only ones that fire. */
  exclusive: boolean;
  expectActions?: Record<string, Array<Record<string, unknown>>>;
}

export interface RuleTestResult {
  case: RuleTestCase;
  ok: boolean;
  failures: string[];
}

export type Normalizer = (raw: unknown) => NotionEvent;

/** Reads one test file; a malformed case is reported as a failed case, not thrown. */
export function readTestFile(file: string, normalize: Normalizer): { cases: RuleTestCase[]; errors: string[] } {
  const text = readFileSync(file, 'utf8');
  const lc = new LineCounter();
  const cases: RuleTestCase[] = [];
  const errors: string[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter: lc }) as ReturnType<typeof parseAllDocuments> & unknown[]) {
    const line = doc.contents?.range ? lc.linePos(doc.contents.range[0]).line : 1;
    if (doc.errors.length) {
      errors.push(`${file}:${lc.linePos(doc.errors[0]!.pos[0]).line}: YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
      continue;
    }
    const data = doc.toJS() as Record<string, unknown> | null;
    if (!data) continue;
    const name = typeof data.name === 'string' ? data.name : `case at line ${line}`;
    try {
      const base = dirname(file);
      const events = Array.isArray(data.events) ? data.events.map((e, i) => normalize(readValue(e, base, `events[${i}]`))) : undefined;
      const event = events ? events[0]! : normalize(readValue(data.event, base, 'event'));
      const facts: Partial<Record<Fact, unknown>> = {};
      for (const fact of ['page', 'content', 'database', 'comment', 'authors', 'before'] as const) {
        if (data[fact] !== undefined) facts[fact] = readValue(data[fact], base, fact, fact === 'content');
      }
      const expect = (data.expect ?? {}) as {
        matched?: string[];
        notMatched?: string[];
        exclusive?: boolean;
        actions?: Record<string, Array<Record<string, unknown>>>;
        runs?: Record<string, number>;
      };
      const exclusive = expect.exclusive === true || data.exclusive === true;
      if (events && expect.runs === undefined) throw new Error('with events, expect.runs gives how often each rule runs ({ rule-id: N })');
      if (!data.expect || (expect.matched === undefined && expect.notMatched === undefined && expect.actions === undefined && expect.runs === undefined)) {
        throw new Error('needs expect.matched (rule ids that fire), expect.notMatched (rule ids that do not) and/or expect.actions');
      }
      for (const key of ['matched', 'notMatched'] as const) {
        const list = expect[key];
        if (list !== undefined && (!Array.isArray(list) || list.some((id) => typeof id !== 'string'))) throw new Error(`expect.${key} is a list of rule ids`);
      }
      if (expect.matched?.length === 0 && !exclusive) {
        throw new Error(
          'expect.matched: [] names no rule; to say a rule does not fire use expect.notMatched: [rule-id], or exclusive: true for "no rule fires"',
        );
      }
      cases.push({
        file,
        line,
        name,
        event,
        facts,
        ...(data.now ? { now: new Date(String(data.now instanceof Date ? data.now.toISOString() : data.now)) } : {}),
        ...(expect.matched ? { expectMatched: expect.matched } : {}),
        ...(expect.notMatched ? { expectNotMatched: expect.notMatched } : {}),
        exclusive,
        ...(expect.actions ? { expectActions: expect.actions } : {}),
        ...(events ? { events } : {}),
        ...(expect.runs ? { expectRuns: expect.runs } : {}),
      });
    } catch (err) {
      errors.push(`${file}:${line}: ${name}: ${(err as Error).message}`);
    }
  }
  return { cases, errors };
}

function readValue(v: unknown, base: string, what: string, text = false): unknown {
  if (v === undefined || v === null) throw new Error(`"${what}" is missing`);
  if (typeof v === 'string' && /\.(json|ya?ml|txt|md)$/i.test(v) && !v.includes('\n')) {
    const path = resolve(base, v);
    let body: string;
    try {
      body = readFileSync(path, 'utf8');
    } catch {
      throw new Error(`${what}: cannot read ${v}`);
    }
    return text || /\.(txt|md)$/i.test(v) ? body : (JSON.parse(body) as unknown);
  }
  return v;
}

/** Runs one case against a rule set, with its fixtures standing in for the Notion API. */
export async function runTestCase(ruleSet: RuleSet, tc: RuleTestCase): Promise<RuleTestResult> {
  const facts = fixtureFacts(tc.facts, 'the test gives');
  if (tc.events) return simulateCase(ruleSet, tc, facts);
  const outcomes = await evaluateEvent(ruleSet, tc.event, { facts, ...(tc.now ? { now: tc.now } : {}) });
  const failures: string[] = [];
  const matched = outcomes.filter((o) => o.matched).map((o) => o.rule);
  // A rule the case does not name may fail for want of a fixture it never gave: not its concern.
  const named = namedRules(tc);
  for (const o of outcomes) {
    if (!o.matched && 'error' in o && (tc.exclusive || named.has(o.rule))) failures.push(`rule ${o.rule}: ${o.reason}: ${o.error}`);
  }
  failures.push(...unknownRules(ruleSet, tc));
  const fired = new Set(matched);
  const missing = (tc.expectMatched ?? []).filter((id) => !fired.has(id));
  if (missing.length) failures.push(`expected ${list(missing)} to fire; fired: [${matched.join(', ')}]`);
  const unwanted = (tc.expectNotMatched ?? []).filter((id) => fired.has(id));
  if (unwanted.length) failures.push(`expected ${list(unwanted)} not to fire, but ${unwanted.length === 1 ? 'it' : 'they'} did`);
  if (tc.exclusive) {
    const wanted = new Set(tc.expectMatched ?? []);
    const others = matched.filter((id) => !wanted.has(id));
    if (others.length) failures.push(`exclusive: only [${[...wanted].join(', ')}] may fire, but ${list(others)} fired too`);
  }
  for (const [ruleId, expected] of Object.entries(tc.expectActions ?? {})) {
    const outcome = outcomes.find((o) => o.rule === ruleId);
    if (!outcome?.matched) {
      failures.push(`rule ${ruleId} did not fire, so its actions could not be compared`);
      continue;
    }
    expected.forEach((exp, i) => {
      const [type, params] = Object.entries(exp)[0] ?? [];
      const got = outcome.actions[i];
      if (!got) return failures.push(`rule ${ruleId}: action ${i + 1} (${type}) was not rendered`);
      if (got.type !== type) return failures.push(`rule ${ruleId}: action ${i + 1} is ${got.type}, expected ${type}`);
      for (const [k, v] of Object.entries((params ?? {}) as Record<string, unknown>)) {
        if (!isDeepStrictEqual(got.params[k], v)) {
          failures.push(`rule ${ruleId}: ${type}.${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(got.params[k])}`);
        }
      }
    });
  }
  return { case: tc, ok: failures.length === 0, failures };
}

function suggestion(id: string, known: string[]): string {
  const close = suggest(id, known);
  return close.length ? ` (did you mean ${orList(close.map((k) => `"${k}"`))}?)` : '';
}

function list(ids: string[]): string {
  return ids.length === 1 ? `rule ${ids[0]}` : `rules [${ids.join(', ')}]`;
}

/** Ids a case names that are no rule of the set: a typo must not make a test pass. */
function unknownRules(ruleSet: RuleSet, tc: RuleTestCase): string[] {
  const known = new Set(ruleSet.all.map((r) => r.id));
  return [...namedRules(tc)].filter((id) => !known.has(id)).map((id) => `no rule has the id "${id}"${suggestion(id, [...known])}`);
}

function namedRules(tc: RuleTestCase): Set<string> {
  return new Set([...(tc.expectMatched ?? []), ...(tc.expectNotMatched ?? []), ...Object.keys(tc.expectActions ?? {}), ...Object.keys(tc.expectRuns ?? {})]);
}

/** A case with `events`: the simulation up to `now` (default: a year after the last event), runs counted per rule. */
async function simulateCase(ruleSet: RuleSet, tc: RuleTestCase, facts: FactSource): Promise<RuleTestResult> {
  const last = Math.max(...tc.events!.map((e) => Date.parse(e.timestamp)));
  const { steps } = await simulate(ruleSet, tc.events!, facts, tc.now ?? new Date(last + 365 * 86_400_000));
  const named = namedRules(tc);
  const failures = steps.filter((s) => s.what === 'error' && (tc.exclusive || named.has(s.rule))).map((s) => `rule ${s.rule}: ${s.error}`);
  const runs = new Map<string, number>();
  for (const s of steps) if (s.what === 'run' || s.what === 'digest_run' || s.what === 'delay_run') runs.set(s.rule, (runs.get(s.rule) ?? 0) + 1);
  for (const [rule, want] of Object.entries(tc.expectRuns ?? {})) {
    if ((runs.get(rule) ?? 0) !== want) failures.push(`rule ${rule}: expected ${want} run${want === 1 ? '' : 's'}, got ${runs.get(rule) ?? 0}`);
  }
  return { case: tc, ok: failures.length === 0, failures };
}

/**
 * Fixtures standing in for the Notion API and the store (rule tests, `run --dry-run`). A missing
 * `before` is a page never seen (null), missing `authors` the event's authors without names or
 * emails; another missing fact is an error naming it.
 */
export function fixtureFacts(fixtures: Partial<Record<Fact, unknown>>, what: string): FactSource {
  return {
    get: async (fact, event) => {
      const value = fixtures[fact];
      if (value !== undefined) return fact === 'before' ? asSnapshot(value) : fact === 'comment' ? asComment(value) : value;
      if (fact === 'before') return null;
      if (fact === 'authors') return unnamedAuthors(event);
      throw new Error(`${what} no "${fact}" fixture`);
    },
  };
}

/** The event's authors as people, without names or emails: what rules see when Notion is not asked. */
export function unnamedAuthors(event: NotionEvent): Array<{ id: string; name: null; type: string; email: null }> {
  return event.authors.map((a) => ({ id: a.id, name: null, type: a.type, email: null }));
}

/** A `comment` fixture: Notion's comment object (as GET /v1/comments/:id returns it), or the view rules see. */
function asComment(v: unknown): unknown {
  return v && typeof v === 'object' && 'rich_text' in v && !('text' in v) ? commentView(v) : v;
}

/** A `before` fixture: `props` and `title` as the page was seen; `seenAt` may be left out. */
function asSnapshot(v: unknown): PageSnapshot | null {
  if (v === null) return null;
  const o = (v ?? {}) as { title?: unknown; props?: unknown; seenAt?: unknown };
  return {
    title: typeof o.title === 'string' ? o.title : '',
    props: o.props && typeof o.props === 'object' ? (o.props as Record<string, unknown>) : {},
    seenAt: typeof o.seenAt === 'string' ? o.seenAt : new Date(0).toISOString(),
  };
}
