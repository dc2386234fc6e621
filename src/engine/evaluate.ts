import type { NotionEvent } from '../model/event.js';
import type { PageSnapshot } from '../model/snapshot.js';
import { buildContext, type ContextInput, seedPage, sharedContext, type SharedContext } from './context.js';
import { dotSegment, headerProblem } from './encoding.js';
import { EvaluationTimeout } from './expression.js';
import { boolean as truthy } from './fast-condition.js';
import type { RuleSet } from './rule-set.js';
import { renderTemplate, type Template } from './template.js';
import type { ActionIntent, CompiledRule, Fact, FactSource, RuleOutcome } from './types.js';

export interface EvaluateOptions {
  facts?: FactSource;
  stale?: boolean;
  now?: Date;
  /** Called before each condition runs (metrics, tests that count evaluations). */
  onCondition?: (rule: CompiledRule) => void;
  /** Also report rules that do not listen to this type (for `run`). */
  explainAll?: boolean;
  /** Only these of the listening rules (a replay matches the rules that failed again). */
  only?: (rule: CompiledRule) => boolean;
  /** A wait (`after`) is over: a rule that holds runs now instead of waiting again. */
  recheck?: boolean;
  /** Rules paused by an operator: not evaluated, reported `paused`. */
  paused?: ReadonlySet<string>;
}

/**
 * Evaluates the rules that listen to `event.type`, in folder order. One rule's failure (fetch,
 * condition, template) is that rule's outcome only; the others still run.
 */
export async function evaluateEvent(ruleSet: RuleSet, event: NotionEvent, options: EvaluateOptions = {}): Promise<RuleOutcome[]> {
  const listening = event.type === SCHEDULE ? scheduled(ruleSet, event) : ruleSet.index.candidates(event.type);
  const candidates = options.only ? listening.filter(options.only) : listening;
  const outcomes: RuleOutcome[] = [];
  if (candidates.length > 0) {
    // Every rule of this event sees the same `event` and `now`: built once.
    const shared = sharedContext(event, options.stale, options.now);
    for (const rule of candidates) {
      if (options.paused?.has(rule.id)) outcomes.push({ rule: rule.id, matched: false, reason: 'paused' });
      else outcomes.push(await evaluateRule(rule, event, options, shared));
    }
  }
  if (options.explainAll) {
    const listens = new Set(listening);
    for (const rule of ruleSet.all) {
      if (!rule.enabled) outcomes.push({ rule: rule.id, matched: false, reason: 'disabled' });
      else if (!listens.has(rule)) outcomes.push({ rule: rule.id, matched: false, reason: 'type_not_subscribed' });
    }
  }
  return outcomes;
}

/** The type of a schedule's tick events (see matching/schedules.ts); their `data.rule` names the one rule they run. */
export const SCHEDULE = 'schedule';

function scheduled(ruleSet: RuleSet, event: NotionEvent): CompiledRule[] {
  const rule = ruleSet.byId.get(String(event.data.rule));
  return rule?.schedule ? [rule] : [];
}

async function evaluateRule(rule: CompiledRule, event: NotionEvent, options: EvaluateOptions, shared: SharedContext): Promise<RuleOutcome> {
  const loaded: Pick<ContextInput, 'page' | 'content' | 'database' | 'before' | 'comment' | 'authors' | 'pages'> = {};
  for (const fact of rule.fetch) {
    try {
      const value = await fetchFact(fact, event, options.facts);
      if (fact === 'content') loaded.content = String(value ?? '');
      else if (fact === 'before') loaded.before = (value ?? null) as PageSnapshot | null;
      else if (fact === 'authors') loaded.authors = Array.isArray(value) ? value : [];
      else if (fact === 'query') loaded.pages = Array.isArray(value) ? (value as Array<Record<string, unknown>>) : [];
      else loaded[fact] = value as Record<string, unknown>;
    } catch (err) {
      const { retriable, waitUntil, turnReserved } = err as { retriable?: boolean; waitUntil?: number; turnReserved?: boolean };
      return {
        rule: rule.id,
        matched: false,
        reason: 'fetch_error',
        error: `fetch ${fact}: ${(err as Error).message}`,
        retriable: retriable === true,
        ...(typeof waitUntil === 'number' ? { waitUntil, turnReserved: turnReserved === true } : {}),
      };
    }
  }
  const ctx = buildContext({
    event,
    ruleId: rule.id,
    shared,
    ...loaded,
  });

  if (rule.schedule?.each) return evaluateEach(rule, ctx, options);
  const held = await checkCondition(rule, ctx, options);
  if (held !== true) return held;

  if (rule.after && !options.recheck) return { rule: rule.id, matched: true, actions: [], delayed: true };
  if (rule.digest) {
    const key = await renderKey(rule.digest.key, ctx);
    if (typeof key !== 'string') return { rule: rule.id, matched: false, reason: 'render_error', error: `digest.key: ${key.error}` };
    return { rule: rule.id, matched: true, actions: [], digest: { key, item: digestItem(ctx) } };
  }
  const rendered = await renderActions(rule, ctx);
  if ('error' in rendered) return { rule: rule.id, matched: false, reason: 'render_error', error: rendered.error };
  if (rule.throttle) {
    const key = await renderKey(rule.throttle.key, ctx);
    if (typeof key !== 'string') return { rule: rule.id, matched: false, reason: 'render_error', error: `throttle.key: ${key.error}` };
    return { rule: rule.id, matched: true, actions: rendered.actions, throttleKey: key };
  }
  return { rule: rule.id, matched: true, actions: rendered.actions };
}

/** A schedule with `each`: the condition and actions once per page of its query, the actions of all in one job. */
async function evaluateEach(rule: CompiledRule, ctx: Record<string, unknown>, options: EvaluateOptions): Promise<RuleOutcome> {
  const actions: ActionIntent[] = [];
  let values: Record<string, unknown> = {};
  for (const page of (ctx.pages as Array<Record<string, unknown>> | undefined) ?? []) {
    const pageCtx = { ...ctx, page };
    const held = await checkCondition(rule, pageCtx, options);
    if (held === true) {
      const rendered = await renderActions(rule, pageCtx);
      if ('error' in rendered) return { rule: rule.id, matched: false, reason: 'render_error', error: `page ${String(page.id)}: ${rendered.error}` };
      actions.push(...rendered.actions);
    } else if (held.reason === 'condition_false') values = held.values;
    else return held;
  }
  return actions.length > 0 ? { rule: rule.id, matched: true, actions } : { rule: rule.id, matched: false, reason: 'condition_false', values };
}

/** True when the rule's condition holds in `ctx` (or it has none); else the outcome that says why not. */
async function checkCondition(
  rule: CompiledRule,
  ctx: Record<string, unknown>,
  options: EvaluateOptions,
): Promise<true | Extract<RuleOutcome, { matched: false }>> {
  if (!rule.when) return true;
  options.onCondition?.(rule);
  try {
    if (truthy(await rule.when.evaluate(ctx))) return true;
  } catch (err) {
    return { rule: rule.id, matched: false, reason: err instanceof EvaluationTimeout ? 'condition_timeout' : 'condition_error', error: (err as Error).message };
  }
  return { rule: rule.id, matched: false, reason: 'condition_false', values: await rule.when.explain(ctx) };
}

/** A rule's actions rendered in `ctx`, each checked (an http URL keeps its origin, headers have no line breaks). */
export async function renderActions(rule: CompiledRule, ctx: Record<string, unknown>): Promise<{ actions: ActionIntent[] } | { error: string }> {
  const actions: ActionIntent[] = [];
  for (const action of rule.actions) {
    try {
      const params = (await renderTemplate(action.params, ctx)) as Record<string, unknown>;
      if (action.origin !== undefined) checkUrl(String(params.url), action.origin);
      if (action.type === 'http') checkHeaders(params.headers);
      actions.push({ type: action.type, params });
    } catch (err) {
      return { error: `${action.type} (line ${action.line}): ${(err as Error).message}` };
    }
  }
  return { actions };
}

/** A throttle or digest key: its template rendered to text. */
async function renderKey(key: Template, ctx: Record<string, unknown>): Promise<string | { error: string }> {
  try {
    const value = await renderTemplate(key, ctx);
    return value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** What a digest keeps of one match for `items`: the context it matched in, without the page's raw property JSON. */
function digestItem(ctx: Record<string, unknown>): Record<string, unknown> {
  const { rule: _rule, now: _now, page, ...rest } = ctx;
  const p = page as { id?: unknown; title?: unknown; url?: unknown; props?: unknown } | undefined;
  return { ...rest, ...(p ? { page: { id: p.id, title: p.title, url: p.url, props: p.props } } : {}) };
}

async function fetchFact(fact: Fact, event: NotionEvent, facts: FactSource | undefined): Promise<unknown> {
  // The seed envelope already carries the whole page: no API call.
  if (fact === 'page') {
    const page = seedPage(event);
    if (page) return page;
  }
  if (!facts) {
    // Nothing was recorded here: the page was never seen.
    if (fact === 'before') return null;
    throw new Error('no Notion API access here (set notion.token, or give a fixture)');
  }
  return facts.get(fact, event);
}

/** Templates may fill an http URL's path and query, never move it to another host or path. */
function checkUrl(url: string, origin: string): void {
  let rendered: string;
  try {
    rendered = new URL(url).origin;
  } catch {
    throw new Error('url is not a valid URL');
  }
  if (rendered !== origin) throw new Error(`url renders to origin ${rendered}, but the rule fixes ${origin}; templates may only fill the path and query`);
  if (dotSegment(url)) throw new Error('url renders to a path with a "." or ".." segment; refused');
}

function checkHeaders(headers: unknown): void {
  if (!headers || typeof headers !== 'object') return;
  for (const [name, value] of Object.entries(headers)) {
    const problem = headerProblem(name, value);
    if (problem) throw new Error(problem);
  }
}
