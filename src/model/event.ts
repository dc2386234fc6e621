/** The one event shape every part after the receiver sees (SPEC §3). */
export interface NotionEvent {
  id: string;
  type: string;
  /** ISO-8601 time the event happened (Notion's `timestamp`, the seed's `created_time`). */
  timestamp: string;
  entity: { id: string; type: string };
  data: Record<string, unknown>;
  authors: Array<{ id: string; type: string }>;
  workspace_id: string | null;
  attempt_number: number;
  /** The body as received, parsed. */
  raw: Record<string, unknown>;
}

/** One action with its parameters rendered: what the engine hands to delivery, and what a job keeps. */
export interface ActionIntent {
  type: string;
  params: Record<string, unknown>;
}
