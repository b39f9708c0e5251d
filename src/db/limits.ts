// The shared rate-limit counters (public.rate_limits): one statement per check, on any instance.
import type { Sql } from "./client";

/**
 * Counts one hit of `subject` under `policy` in its current window (a new window starts at the first
 * hit after the last one ended), and returns the hits so far and the seconds until the window ends.
 */
export async function countHit(sql: Sql, policy: string, subject: Buffer, window: number): Promise<{ hits: number; reset: number }> {
  const [row] = await sql<{ hits: number; reset: number }[]>`
    insert into public.rate_limits as r (policy, subject, hits, resets_at)
    values (${policy}, ${subject}, 1, now() + ${window}::int * interval '1 second')
    on conflict (policy, subject) do update set
      hits = case when r.resets_at <= now() then 1 else r.hits + 1 end,
      resets_at = case when r.resets_at <= now() then excluded.resets_at else r.resets_at end
    returning hits, greatest(1, ceil(extract(epoch from resets_at - now())))::int as reset`;
  return row!;
}

/** Takes back one hit of the current window (a sign-in that turned out right is no failure). */
export async function uncountHit(sql: Sql, policy: string, subject: Buffer) {
  await sql`update public.rate_limits set hits = hits - 1 where policy = ${policy} and subject = ${subject} and hits > 0 and resets_at > now()`;
}

/** Forgets windows that ended. */
export async function deleteEndedWindows(sql: Sql) {
  await sql`delete from public.rate_limits where resets_at <= now()`;
}
