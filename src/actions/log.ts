import type { ActionExecutor } from './types.js';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error']);

/** `log`: one structured line with the event and rule ids. */
export const logAction: ActionExecutor = async (params, ctx) => {
  const level = LEVELS.has(String(params.level)) ? (String(params.level) as 'info') : 'info';
  const fields = params.fields && typeof params.fields === 'object' ? (params.fields as Record<string, unknown>) : {};
  // ctx.log already carries eventId, ruleId and jobId.
  ctx.log[level]({ ...fields, action: 'log' }, String(params.message ?? ''));
  return undefined;
};
