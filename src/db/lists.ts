// Helpers for list queries: filters, paging with a total, and search text for ILIKE.
import type { Sql } from "./client";
import { isSchemaName } from "./names";

/** `50%_off` → `%50\%\_off%`: the user's text matched literally, anywhere. */
export function escapeLike(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A list's conditions as SQL text, each value a parameter: `$(value)` keeps it and answers its placeholder. */
export class Filter {
  readonly conditions: string[] = [];
  readonly values: unknown[] = [];
  readonly $ = (value: unknown) => `$${this.values.push(value)}`;
  where(condition: string) {
    this.conditions.push(condition);
  }
}

/**
 * A page of `table` (a tenant's, by schema) and the total behind it. Sent as text and parameters
 * rather than tagged fragments: composing those costs about a tenth of a GET /tasks (README › Load
 * testing). Every name here comes from the code, never from input; values are always parameters.
 *
 * The page query fetches limit + 1 rows: a list that fits on its page (the usual TODO list) costs
 * one query; the count runs only when there is more, or when the offset is past the end. (A
 * count(*) over () window instead would sort every matching row.)
 */
export async function listPage<T>(
  sql: Sql,
  schema: string,
  select: { columns: string; table: string; filter: Filter; order: string },
  { limit, offset }: { limit: number; offset: number },
): Promise<{ rows: T[]; total: number }> {
  if (!isSchemaName(schema)) throw new Error(`invalid schema name "${schema}"`);
  const { values, conditions } = select.filter;
  const from = `from "${schema}".${select.table}${conditions.length ? ` where ${conditions.join(" and ")}` : ""}`;
  const n = values.length;
  const fetched: T[] = await sql.unsafe(`select ${select.columns} ${from} ${select.order} limit $${n + 1} offset $${n + 2}`, [...values, limit + 1, offset]);
  const count = async () => ((await sql.unsafe(`select count(*)::int as n ${from}`, values)) as { n: number }[])[0]!.n;
  if (fetched.length > limit) return { rows: fetched.slice(0, limit), total: await count() };
  if (fetched.length === 0 && offset > 0) return { rows: fetched, total: await count() };
  return { rows: fetched, total: offset + fetched.length };
}
