import type { Client } from '@notionhq/client';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { httpAction } from './http.js';
import { logAction } from './log.js';
import { notionCommentAction } from './notion-comment.js';
import { notionUpdateAction } from './notion-update.js';
import { searchDeleteAction, searchIndexAction } from './search.js';
import { slackAction } from './slack.js';
import type { ActionExecutor } from './types.js';

/** Every action type, by the name rules use. Parameters are checked at load time by the rule schema. */
export function createActions(config: Config, notion: Client | undefined, log: Logger): ReadonlyMap<string, ActionExecutor> {
  return new Map<string, ActionExecutor>([
    ['slack', slackAction(config, log)],
    ['notion.comment', notionCommentAction(notion)],
    ['notion.update', notionUpdateAction(notion)],
    ['search.index', searchIndexAction],
    ['search.delete', searchDeleteAction],
    ['http', httpAction(config)],
    ['log', logAction],
  ]);
}
