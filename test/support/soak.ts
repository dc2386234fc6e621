/**
 * `npm run soak` sets NOTION_RULES_SOAK=1: the reliability tests run longer (more events, more
 * kills, more fuzzed inputs). `npm test` keeps them short and bounded.
 */
export const SOAK = process.env.NOTION_RULES_SOAK === '1';

export function scale(normal: number, soak: number): number {
  return SOAK ? soak : normal;
}
