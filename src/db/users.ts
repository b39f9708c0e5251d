// A tenant's users. Every statement is schema-qualified through postgres.js identifier quoting;
// the schema was validated before it got here. No statement returns the password hash but `credentials`.
import type { Db } from "./client";
import { escapeLike, paged } from "./lists";

export type Role = "admin" | "member";
export type User = {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  role: Role;
  created_at: string;
  updated_at: string;
};
export type NewUser = Pick<User, "email" | "first_name" | "last_name" | "role"> & { password_hash: string };
export type UserChanges = Partial<NewUser>;

export const USER_SORTS = ["email", "first_name", "last_name", "role", "created_at"] as const;
export type UserQuery = { q?: string; role?: Role; sort: (typeof USER_SORTS)[number]; desc: boolean; limit: number; offset: number };

const COLUMNS = ["id", "email", "first_name", "last_name", "role", "created_at", "updated_at"];

export async function insertUser(db: Db, schema: string, user: NewUser): Promise<User> {
  const [row] = await db<User[]>`
    insert into ${db(schema)}.users ${db(user, "email", "password_hash", "first_name", "last_name", "role")}
    returning ${db(COLUMNS)}`;
  return row!;
}

export async function userById(db: Db, schema: string, id: number, forUpdate = false): Promise<User | undefined> {
  const [row] = await db<User[]>`select ${db(COLUMNS)} from ${db(schema)}.users where id = ${id} ${forUpdate ? db`for update` : db``}`;
  return row;
}

export async function credentials(db: Db, schema: string, email: string) {
  const [row] = await db<(User & { password_hash: string })[]>`
    select ${db(COLUMNS)}, password_hash from ${db(schema)}.users where email = ${email}`;
  return row;
}

function matching(db: Db, query: UserQuery) {
  const q = query.q ? escapeLike(query.q) : undefined;
  return db`where true
    ${q ? db`and (email ilike ${q} or first_name ilike ${q} or last_name ilike ${q})` : db``}
    ${query.role ? db`and role = ${query.role}` : db``}`;
}

export async function listUsers(db: Db, schema: string, query: UserQuery): Promise<{ rows: User[]; total: number }> {
  const direction = query.desc ? db`desc` : db`asc`;
  const fetched = await db<User[]>`
    select ${db(COLUMNS)} from ${db(schema)}.users ${matching(db, query)}
    order by ${db(query.sort)} ${direction}, id ${direction}
    limit ${query.limit + 1} offset ${query.offset}`;
  return paged(fetched, query, async () => (await db<{ n: number }[]>`select count(*)::int as n from ${db(schema)}.users ${matching(db, query)}`)[0]!.n);
}

export async function updateUser(db: Db, schema: string, id: number, changes: UserChanges): Promise<User | undefined> {
  const keys = Object.keys(changes) as (keyof UserChanges)[];
  if (keys.length === 0) return userById(db, schema, id);
  const [row] = await db<User[]>`
    update ${db(schema)}.users set ${db(changes, keys)}, updated_at = now()
    where id = ${id} returning ${db(COLUMNS)}`;
  return row;
}

export async function deleteUser(db: Db, schema: string, id: number): Promise<User | undefined> {
  const [row] = await db<User[]>`delete from ${db(schema)}.users where id = ${id} returning ${db(COLUMNS)}`;
  return row;
}

/** Locks the tenant's admins so two concurrent demotions cannot remove the last one. */
export async function lockAdmins(db: Db, schema: string): Promise<number[]> {
  const rows = await db<{ id: number }[]>`select id from ${db(schema)}.users where role = 'admin' order by id for update`;
  return rows.map((r) => r.id);
}
