// Responses to POSTs sent with an Idempotency-Key, kept per tenant and user for 24 hours
// (sql/tenant/0003). All of it runs inside the caller's transaction.
import type { Sql } from "./client";

/** Advisory lock class for keys in flight (the migrator's is 1_718_447_360). */
const LOCK_NAMESPACE = 1_718_447_361;

export type StoredResponse = {
  fingerprint: Buffer;
  secret: string | null;
  status: number;
  location: string | null;
  etag: string | null;
  body: string;
};

/**
 * Claims the key until the transaction ends; false while another transaction holds it (the same
 * request still in flight, on any instance). Transaction-level, so safe behind a transaction pooler.
 */
export async function claimKey(sql: Sql, schema: string, userId: number, key: string): Promise<boolean> {
  const [row] = await sql<{ claimed: boolean }[]>`
    select pg_try_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext(${`${schema} ${userId} ${key}`})) as claimed`;
  return row!.claimed;
}

/** The response stored for this key within the last 24 hours, if any. */
export async function storedResponse(sql: Sql, schema: string, userId: number, key: string): Promise<StoredResponse | undefined> {
  const [row] = await sql<StoredResponse[]>`
    select fingerprint, secret, status, location, etag, body from ${sql(schema)}.idempotency_keys
    where user_id = ${userId} and key = ${key} and created_at > now() - interval '24 hours'`;
  return row;
}

/** Stores the response; replaces an expired one under the same key. */
export async function storeResponse(sql: Sql, schema: string, userId: number, key: string, response: StoredResponse) {
  const row = { user_id: userId, key, ...response };
  await sql`
    insert into ${sql(schema)}.idempotency_keys ${sql(row, "user_id", "key", "fingerprint", "secret", "status", "location", "etag", "body")}
    on conflict (user_id, key) do update set
      fingerprint = excluded.fingerprint, secret = excluded.secret, status = excluded.status,
      location = excluded.location, etag = excluded.etag, body = excluded.body, created_at = excluded.created_at`;
}

/** Deletes up to `limit` expired keys, oldest first, skipping rows another transaction holds: expiry without a cron. */
export async function pruneKeys(sql: Sql, schema: string, limit: number) {
  await sql`
    delete from ${sql(schema)}.idempotency_keys where (user_id, key) in (
      select user_id, key from ${sql(schema)}.idempotency_keys where created_at <= now() - interval '24 hours'
      order by created_at limit ${limit} for update skip locked)`;
}
