import type { Client } from '@notionhq/client';

/** A Notion user as rules see it (`authors[0].name`, `authors[0].email`). */
export interface Person {
  id: string;
  name: string | null;
  /** `person`, `bot`, or what Notion says. */
  type: string;
  /** A person's email, when the integration may read it (user information with email addresses). */
  email: string | null;
}

const TTL_MS = 60 * 60 * 1000;
const MAX = 10_000;

/**
 * Notion users read once and kept for an hour: a burst of events by one author costs one read.
 * An author Notion no longer knows (a removed guest) is a person with only its id.
 */
export class People {
  private readonly cache = new Map<string, { at: number; person: Promise<Person> }>();

  get(client: Client, author: { id: string; type?: string }, now = Date.now()): Promise<Person> {
    const hit = this.cache.get(author.id);
    if (hit && now - hit.at < TTL_MS) return hit.person;
    const person = read(client, author);
    if (this.cache.size >= MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(author.id, { at: now, person });
    person.catch(() => this.cache.get(author.id)?.person === person && this.cache.delete(author.id));
    return person;
  }
}

async function read(client: Client, author: { id: string; type?: string }): Promise<Person> {
  try {
    const user = (await client.users.retrieve({ user_id: author.id })) as {
      id: string;
      type?: string;
      name?: string | null;
      person?: { email?: string };
    };
    return { id: user.id, name: user.name ?? null, type: user.type ?? author.type ?? 'person', email: user.person?.email ?? null };
  } catch (err) {
    if ((err as { code?: string }).code === 'object_not_found') return { id: author.id, name: null, type: author.type ?? 'person', email: null };
    throw err;
  }
}
