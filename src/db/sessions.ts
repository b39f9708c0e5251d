// Sessions hold only a SHA-256 of the bearer token, in the tenant's own schema.
import type { Db } from "./client";
import type { Role } from "./users";

export type Session = { user_id: number; role: Role; expires_at: string };

export async function insertSession(db: Db, schema: string, tokenHash: Uint8Array, userId: number, expiresAt: Date) {
  await db`
    insert into ${db(schema)}.sessions (token_hash, user_id, expires_at)
    values (${Buffer.from(tokenHash)}, ${userId}, ${expiresAt})`;
}

/** A live session with its user's current role, or undefined. */
export async function sessionByHash(db: Db, schema: string, tokenHash: Uint8Array): Promise<Session | undefined> {
  const [row] = await db<Session[]>`
    select s.user_id, u.role, s.expires_at
    from ${db(schema)}.sessions s join ${db(schema)}.users u on u.id = s.user_id
    where s.token_hash = ${Buffer.from(tokenHash)} and s.expires_at > now()`;
  return row;
}

export async function deleteSession(db: Db, schema: string, tokenHash: Uint8Array) {
  await db`delete from ${db(schema)}.sessions where token_hash = ${Buffer.from(tokenHash)}`;
}

export async function deleteExpiredSessions(db: Db, schema: string, userId: number) {
  await db`delete from ${db(schema)}.sessions where user_id = ${userId} and expires_at <= now()`;
}
