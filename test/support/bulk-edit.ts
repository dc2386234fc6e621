/**
 * The bulk edit of issue #17: 200 pages set to Done at once in Notion, one rule that fetches the
 * page, posts to one Slack channel and comments on the page, against fakes that enforce the
 * documented limits (Notion 3 requests/s per token with bursts, Slack 1 message/s per channel).
 * The limits are sped up by NOTION_RULES_PACE_SCALE (default 5: Slack 5/s, Notion 15/s) so the
 * suite stays short; NOTION_RULES_PACE_SCALE=1 runs it at the documented rates (about 200 s).
 */
export const SCALE = Number(process.env.NOTION_RULES_PACE_SCALE ?? 5);
export const PAGES = 200;
export const SLACK = { rate: 1 * SCALE, burst: 4 };
export const NOTION = { rate: 3 * SCALE, burst: 9 };
/** What the destinations allow: one channel at its rate after its burst (Notion's 400 calls need less). */
export const LIMIT_S = Math.max((PAGES - SLACK.burst) / SLACK.rate, (2 * PAGES - NOTION.burst) / NOTION.rate);
/** delivery.limits as the defaults (Notion 3/s burst 9, Slack 1/s burst 4), sped up like the fakes. */
export const LIMITS = { notion: { rate: NOTION.rate, burst: NOTION.burst }, slack: { perChannel: SLACK.rate, burst: SLACK.burst } };

export const pageId = (i: number): string => `1f8e2d3c-4b5a-4697-8877-${String(i).padStart(12, '0')}`;
