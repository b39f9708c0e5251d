// Helpers for list queries: paging with a total, and search text for ILIKE.

/** `50%_off` → `%50\%\_off%`: the user's text matched literally, anywhere. */
export function escapeLike(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A page and the total behind it. The page query fetches limit + 1 rows: a list that fits on its
 * page (the usual TODO list) costs one query; the count runs only when there is more, or when the
 * offset is past the end. (A count(*) over () window instead would sort every matching row.)
 */
export async function paged<T>(
  fetched: T[],
  { limit, offset }: { limit: number; offset: number },
  count: () => Promise<number>,
): Promise<{ rows: T[]; total: number }> {
  if (fetched.length > limit) return { rows: fetched.slice(0, limit), total: await count() };
  if (fetched.length === 0 && offset > 0) return { rows: fetched, total: await count() };
  return { rows: fetched, total: offset + fetched.length };
}
