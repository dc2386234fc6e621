import type { Client } from '@notionhq/client';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { pageIdOf } from '../model/entities.js';
import type { ActionIntent, NotionEvent } from '../model/event.js';
import { MASK, maskSecrets } from '../util/mask.js';
import { httpAction } from './http.js';
import { logAction } from './log.js';
import { notionCommentAction } from './notion-comment.js';
import { notionUpdateAction } from './notion-update.js';
import { notionCreateAction } from './notion-create.js';
import { notionAppendAction } from './notion-append.js';
import { searchDeleteAction, searchIndexAction } from './search.js';
import { slackAction } from './slack.js';
import type { ActionExecutor } from './types.js';

/** What an action's executor is built with. */
export interface ActionDeps {
  config: Config;
  notion: Client | undefined;
  log: Logger;
}

type Params = Record<string, unknown>;

/**
 * One action type, all it needs to declare in one place. Its parameters' shape is in
 * schemas/rule.schema.json (checked when rules load, with file and line).
 */
export interface ActionPlugin {
  /** The name rules use. */
  type: string;
  /**
   * Parameters that hold secrets (a webhook URL with its key, headers): masked wherever rendered
   * parameters are shown (console, admin API), whatever their names or values look like.
   */
  secretParams: readonly string[];
  /** What the action takes from its event when the rule leaves it out. */
  defaults?: (params: Params, event: NotionEvent) => Params;
  create(deps: ActionDeps): ActionExecutor;
}

/** The page of a page-related event, else the event's own id in its data. */
const pageOf = (event: NotionEvent): string | undefined => pageIdOf(event) ?? (typeof event.data.id === 'string' ? event.data.id : undefined);
const onPage = (params: Params, event: NotionEvent): Params => {
  const page = pageOf(event);
  return !params.page_id && !params.discussion_id && page ? { ...params, page_id: page } : params;
};
/** A reply answers the event's comment. */
const onPageOrComment = (params: Params, event: NotionEvent): Params => {
  const withPage = onPage(params, event);
  const reply = params.reply === true || params.reply === 'true';
  return reply && !params.comment_id && event.entity.type === 'comment' ? { ...withPage, comment_id: event.entity.id } : withPage;
};
const byId = (params: Params, event: NotionEvent): Params => {
  const id = pageOf(event) ?? event.entity.id;
  return !params.id && id ? { ...params, id } : params;
};

/** Every action type. */
export const ACTIONS: readonly ActionPlugin[] = [
  { type: 'slack', secretParams: [], create: ({ config, log }) => slackAction(config, log) },
  { type: 'notion.comment', secretParams: [], defaults: onPageOrComment, create: ({ notion }) => notionCommentAction(notion) },
  { type: 'notion.update', secretParams: [], defaults: onPage, create: ({ notion }) => notionUpdateAction(notion) },
  { type: 'notion.create', secretParams: [], create: ({ notion }) => notionCreateAction(notion) },
  { type: 'notion.append', secretParams: [], defaults: onPage, create: ({ notion }) => notionAppendAction(notion) },
  { type: 'search.index', secretParams: [], defaults: byId, create: () => searchIndexAction },
  { type: 'search.delete', secretParams: [], defaults: byId, create: () => searchDeleteAction },
  // Any header may carry a credential (an API key under a name of the receiver's choosing).
  { type: 'http', secretParams: ['headers'], create: ({ config }) => httpAction(config) },
  { type: 'log', secretParams: [], create: () => logAction },
];

const byType = new Map(ACTIONS.map((a) => [a.type, a]));

/** Every action type a rule may use. */
export function actionTypes(): string[] {
  return ACTIONS.map((a) => a.type);
}

/** The executors, by the name rules use. */
export function createActions(config: Config, notion: Client | undefined, log: Logger): ReadonlyMap<string, ActionExecutor> {
  return new Map(ACTIONS.map((a) => [a.type, a.create({ config, notion, log })]));
}

/** Fills what each action leaves to the event (the page of notion.* actions, the id of search.*). */
export function withDefaults(actions: ActionIntent[], event: NotionEvent): ActionIntent[] {
  return actions.map((a) => {
    const defaults = byType.get(a.type)?.defaults;
    if (!defaults) return a;
    const params = defaults(a.params, event);
    return params === a.params ? a : { ...a, params };
  });
}

/** An action's rendered parameters as operators may see them: its declared secrets and anything secret-looking masked. */
export function maskedParams(action: ActionIntent): Params {
  const secret = new Set(byType.get(action.type)?.secretParams ?? []);
  const declared = Object.fromEntries(
    Object.entries(action.params).map(([k, v]) => [k, secret.has(k) && v !== undefined && v !== null && v !== '' ? MASK : v]),
  );
  return maskSecrets(declared) as Params;
}

/** A job (or anything with `actions`) with every action's parameters masked; other fields as maskSecrets leaves them. */
export function maskedJob<T extends { actions: ActionIntent[] }>(job: T): T {
  return { ...(maskSecrets(job) as T), actions: job.actions.map((a) => ({ ...a, params: maskedParams(a) })) };
}
