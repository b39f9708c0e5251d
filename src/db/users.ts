// A tenant's users. Every statement is schema-qualified (the client's identifier quoting, or for
// the list, lists.ts's check then quotes); the schema was validated before it got here. No statement returns the password hash but `credentials`.
import type { Sql } from "./client";
import { escapeLike, Filter, listPage } from "./lists";
import { NEXT_VERSION } from "./versions";

export type Role = "admin" | "member";
export type User = {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  role: Role;
  created_at: Date;
  updated_at: Date;
  /** Moves on with every change (versions.ts): the ETag's. */
  version: number;
};
/** A user as stored: what is inserted, and (partly) what an update changes. */
export type UserRow = Pick<User, "email" | "first_name" | "last_name" | "role"> & { password_hash: string };
type UserChanges = Partial<UserRow>;

export const USER_SORTS = ["email", "first_name", "last_name", "role", "created_at"] as const;
export type UserQuery = { q?: string; role?: Role; sort: (typeof USER_SORTS)[number]; desc: boolean; limit: number; offset: number };

const COLUMNS = "id, email, first_name, last_name, role, created_at, updated_at, version";

/**
 * Inserts the user and counts it in the tenant's `counts` row, in one statement: undefined (and
 * nothing inserted) when that would take the count over `max` (undefined: no quota). Concurrent
 * inserts queue on that row (see insertTasks).
 */
export async function insertUser(sql: Sql, schema: string, user: UserRow, max?: number): Promise<User | undefined> {
  const [row] = await sql<User[]>`
    with slot as (update ${sql(schema)}.counts set users = users + 1 where users + 1 <= coalesce(${max ?? null}::int, 2147483647) returning 1)
    insert into ${sql(schema)}.users (email, password_hash, first_name, last_name, role)
    select ${user.email}, ${user.password_hash}, ${user.first_name}, ${user.last_name}, ${user.role} where exists (select from slot)
    returning ${sql.unsafe(COLUMNS)}`;
  return row;
}

export async function userById(sql: Sql, schema: string, id: number, forUpdate = false): Promise<User | undefined> {
  const [row] = await sql<User[]>`select ${sql.unsafe(COLUMNS)} from ${sql(schema)}.users where id = ${id} ${forUpdate ? sql`for update` : sql``}`;
  return row;
}

export async function credentials(sql: Sql, schema: string, email: string) {
  const [row] = await sql<(User & { password_hash: string })[]>`
    select ${sql.unsafe(COLUMNS)}, password_hash from ${sql(schema)}.users where email = ${email}`;
  return row;
}

function matching(query: UserQuery): Filter {
  const filter = new Filter();
  const { $ } = filter;
  if (query.q) {
    const q = $(escapeLike(query.q));
    filter.where(`(email ilike ${q} or first_name ilike ${q} or last_name ilike ${q})`);
  }
  if (query.role) filter.where(`role = ${$(query.role)}`);
  return filter;
}

export function listUsers(sql: Sql, schema: string, query: UserQuery): Promise<{ rows: User[]; total: number }> {
  const direction = query.desc ? "desc" : "asc";
  // The sort is one of USER_SORTS (the route checks), a column name.
  const order = `order by "${query.sort}" ${direction}, id ${direction}`;
  return listPage(sql, schema, { columns: COLUMNS, table: "users", filter: matching(query), order }, query);
}

/** The changed user, at its next version. */
export async function updateUser(sql: Sql, schema: string, id: number, changes: UserChanges): Promise<User | undefined> {
  const keys = Object.keys(changes) as (keyof UserChanges)[];
  if (keys.length === 0) return userById(sql, schema, id);
  const [row] = await sql<User[]>`
    update ${sql(schema)}.users set ${sql(changes, ...keys)}, ${sql.unsafe(NEXT_VERSION)}
    where id = ${id} returning ${sql.unsafe(COLUMNS)}`;
  return row;
}

/** Deletes the user and takes it off the tenant's count, in one statement. */
export async function deleteUser(sql: Sql, schema: string, id: number): Promise<User | undefined> {
  const [row] = await sql<User[]>`
    with gone as (delete from ${sql(schema)}.users where id = ${id} returning ${sql.unsafe(COLUMNS)}),
    counted as (update ${sql(schema)}.counts set users = users - 1 where exists (select from gone))
    select * from gone`;
  return row;
}

/** Locks the tenant's admins so two concurrent demotions cannot remove the last one. */
export async function lockAdmins(sql: Sql, schema: string): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`select id from ${sql(schema)}.users where role = 'admin' order by id for update`;
  return rows.map((r) => r.id);
}
