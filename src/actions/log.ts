import type { ActionExecutor } from './types.js';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error']);

/**
 * Names a rule's `fields` cannot set: the line's own (level, time, msg…) and the ids the service
 * adds. Event data in `fields` could otherwise forge another event's line or its level.
 */
const RESERVED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v', 'err', 'eventId', 'eventType', 'ruleId', 'jobId', 'reqId', 'action']);

/** `log`: one structured line with the event and rule ids; `fields` under reserved names are renamed `field.<name>`. */
export const logAction: ActionExecutor = async (params, ctx) => {
  const level = LEVELS.has(String(params.level)) ? (String(params.level) as 'info') : 'info';
  const given = params.fields && typeof params.fields === 'object' && !Array.isArray(params.fields) ? (params.fields as Record<string, unknown>) : {};
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(given)) fields[RESERVED.has(k) ? `field.${k}` : k] = v;
  // ctx.log already carries eventId, ruleId and jobId.
  ctx.log[level]({ ...fields, action: 'log' }, String(params.message ?? ''));
  return undefined;
};
