// Sessions hold only a SHA-256 of the bearer token, in the tenant's own schema.
import type { Sql } from "./client";
import type { Role } from "./users";

export type Session = { user_id: number; role: Role; expires_at: Date };

export async function insertSession(sql: Sql, schema: string, tokenHash: Buffer, userId: number, expiresAt: Date) {
  await sql`
    insert into ${sql(schema)}.sessions (token_hash, user_id, expires_at)
    values (${tokenHash}, ${userId}, ${expiresAt})`;
}

/** A live session with its user's current role, or undefined. */
export async function sessionByHash(sql: Sql, schema: string, tokenHash: Buffer): Promise<Session | undefined> {
  const [row] = await sql<Session[]>`
    select s.user_id, u.role, s.expires_at
    from ${sql(schema)}.sessions s join ${sql(schema)}.users u on u.id = s.user_id
    where s.token_hash = ${tokenHash} and s.expires_at > now()`;
  return row;
}

export async function deleteSession(sql: Sql, schema: string, tokenHash: Buffer) {
  await sql`delete from ${sql(schema)}.sessions where token_hash = ${tokenHash}`;
}

/** Every session of the user but the one kept (the caller's own, on a self-service change). */
export async function deleteSessions(sql: Sql, schema: string, userId: number, keep?: Buffer) {
  await sql`delete from ${sql(schema)}.sessions where user_id = ${userId} ${keep ? sql`and token_hash <> ${keep}` : sql``}`;
}

export async function deleteExpiredSessions(sql: Sql, schema: string, userId: number) {
  await sql`delete from ${sql(schema)}.sessions where user_id = ${userId} and expires_at <= now()`;
}
