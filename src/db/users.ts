// A tenant's users. Every statement is schema-qualified through the client's identifier quoting;
// the schema was validated before it got here. No statement returns the password hash but `credentials`.
import type { Sql } from "./client";
import { escapeLike, paged } from "./lists";

export type Role = "admin" | "member";
export type User = {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  role: Role;
  created_at: Date;
  updated_at: Date;
};
/** A user as stored: what is inserted, and (partly) what an update changes. */
export type UserRow = Pick<User, "email" | "first_name" | "last_name" | "role"> & { password_hash: string };
type UserChanges = Partial<UserRow>;

export const USER_SORTS = ["email", "first_name", "last_name", "role", "created_at"] as const;
export type UserQuery = { q?: string; role?: Role; sort: (typeof USER_SORTS)[number]; desc: boolean; limit: number; offset: number };

const COLUMNS = "id, email, first_name, last_name, role, created_at, updated_at";

export async function insertUser(sql: Sql, schema: string, user: UserRow): Promise<User> {
  const [row] = await sql<User[]>`
    insert into ${sql(schema)}.users ${sql(user, "email", "password_hash", "first_name", "last_name", "role")}
    returning ${sql.unsafe(COLUMNS)}`;
  return row!;
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

function matching(sql: Sql, query: UserQuery) {
  const q = query.q ? escapeLike(query.q) : undefined;
  return sql`where true
    ${q ? sql`and (email ilike ${q} or first_name ilike ${q} or last_name ilike ${q})` : sql``}
    ${query.role ? sql`and role = ${query.role}` : sql``}`;
}

export async function listUsers(sql: Sql, schema: string, query: UserQuery): Promise<{ rows: User[]; total: number }> {
  const direction = query.desc ? sql`desc` : sql`asc`;
  const fetched = await sql<User[]>`
    select ${sql.unsafe(COLUMNS)} from ${sql(schema)}.users ${matching(sql, query)}
    order by ${sql(query.sort)} ${direction}, id ${direction}
    limit ${query.limit + 1} offset ${query.offset}`;
  return paged(fetched, query, async () => (await sql<{ n: number }[]>`select count(*)::int as n from ${sql(schema)}.users ${matching(sql, query)}`)[0]!.n);
}

/** A trigger moves updated_at (sql/tenant/0002). */
export async function updateUser(sql: Sql, schema: string, id: number, changes: UserChanges): Promise<User | undefined> {
  const keys = Object.keys(changes) as (keyof UserChanges)[];
  if (keys.length === 0) return userById(sql, schema, id);
  const [row] = await sql<User[]>`
    update ${sql(schema)}.users set ${sql(changes, ...keys)}
    where id = ${id} returning ${sql.unsafe(COLUMNS)}`;
  return row;
}

export async function deleteUser(sql: Sql, schema: string, id: number): Promise<User | undefined> {
  const [row] = await sql<User[]>`delete from ${sql(schema)}.users where id = ${id} returning ${sql.unsafe(COLUMNS)}`;
  return row;
}

/** Locks the tenant's admins so two concurrent demotions cannot remove the last one. */
export async function lockAdmins(sql: Sql, schema: string): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`select id from ${sql(schema)}.users where role = 'admin' order by id for update`;
  return rows.map((r) => r.id);
}
