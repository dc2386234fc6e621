import type { NotionEvent } from '../model/event.js';

/** Why a body is not an event we can accept; becomes `400 {"error":"invalid_event","detail":…}`. */
export class InvalidEvent extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'InvalidEvent';
  }
}

const MAX_ID = 200;
/**
 * A timestamp further ahead of its arrival than this is taken as the arrival time: one event dated
 * in the future would otherwise make every later event of its entity `stale`. Clock skew between
 * Notion and us stays well inside it.
 */
export const MAX_FUTURE_MS = 5 * 60_000;

/**
 * Turns either envelope into a NotionEvent:
 * - Notion's: `{id, timestamp, workspace_id, type, authors, attempt_number, entity, data, …}`
 * - the seed document's: `{object:"event", id, created_time, event_type, data:{full object}}`.
 * The timestamp is the body's, or `receivedAt` when it has none or is more than MAX_FUTURE_MS ahead.
 */
export function normalize(body: unknown, receivedAt: Date = new Date()): NotionEvent {
  if (!isObject(body)) throw new InvalidEvent('body must be a JSON object');
  const id = body.id;
  if (typeof id !== 'string' || id.length === 0) throw new InvalidEvent('"id" must be a non-empty string');
  if (id.length > MAX_ID) throw new InvalidEvent(`"id" is longer than ${MAX_ID} characters`);

  const seed = body.object === 'event' || (body.type === undefined && body.event_type !== undefined);
  const type = seed ? body.event_type : body.type;
  if (typeof type !== 'string' || type.length === 0) {
    throw new InvalidEvent(seed ? '"event_type" must be a non-empty string' : '"type" must be a non-empty string');
  }
  if (type.length > MAX_ID) throw new InvalidEvent(`"type" is longer than ${MAX_ID} characters`);

  const tsField = seed ? 'created_time' : 'timestamp';
  const ts = body[tsField];
  if (ts !== undefined && typeof ts !== 'string') throw new InvalidEvent(`"${tsField}" must be a string`);
  if (typeof ts === 'string' && Number.isNaN(Date.parse(ts))) throw new InvalidEvent(`"${tsField}" is not a date`);
  const given = typeof ts === 'string' ? Date.parse(ts) : undefined;
  const timestamp = given === undefined || given > receivedAt.getTime() + MAX_FUTURE_MS ? receivedAt.toISOString() : new Date(given).toISOString();

  const data = body.data;
  if (data !== undefined && data !== null && !isObject(data)) throw new InvalidEvent('"data" must be an object');

  const entity = seed ? seedEntity(type, isObject(data) ? data : {}) : notionEntity(body.entity);
  const authors = body.authors;
  if (authors !== undefined && !Array.isArray(authors)) throw new InvalidEvent('"authors" must be an array');
  const attempt = body.attempt_number;
  if (attempt !== undefined && (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 0)) {
    throw new InvalidEvent('"attempt_number" must be a non-negative integer');
  }
  const workspace = body.workspace_id;
  if (workspace !== undefined && workspace !== null && typeof workspace !== 'string') {
    throw new InvalidEvent('"workspace_id" must be a string');
  }

  return {
    id,
    type,
    timestamp,
    entity,
    data: isObject(data) ? data : {},
    authors: (authors ?? []).filter(isObject).map((a) => ({ id: String(a.id ?? ''), type: String(a.type ?? '') })),
    workspace_id: typeof workspace === 'string' ? workspace : null,
    attempt_number: typeof attempt === 'number' ? attempt : 1,
    raw: body,
  };
}

function notionEntity(entity: unknown): { id: string; type: string } {
  if (entity === undefined || entity === null) return { id: '', type: '' };
  if (!isObject(entity)) throw new InvalidEvent('"entity" must be an object');
  if (entity.id !== undefined && typeof entity.id !== 'string') throw new InvalidEvent('"entity.id" must be a string');
  if (entity.type !== undefined && typeof entity.type !== 'string') throw new InvalidEvent('"entity.type" must be a string');
  return { id: entity.id ?? '', type: entity.type ?? '' };
}

/** In the seed envelope `data` is the full object; its id and kind are the entity. */
function seedEntity(type: string, data: Record<string, unknown>): { id: string; type: string } {
  const kind = typeof data.object === 'string' ? data.object : (type.split('.')[0] ?? '');
  return { id: typeof data.id === 'string' ? data.id : '', type: kind };
}

/** The verification handshake: a body whose only key is `verification_token`. */
export function verificationToken(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'verification_token') return undefined;
  const token = body.verification_token;
  return typeof token === 'string' && token.length > 0 && token.length <= 512 ? token : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
