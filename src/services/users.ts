// User management rules: only admins manage users; anyone may edit their own name and password;
// the last admin can be neither demoted nor removed. Emails stay unique across the service.
import type { Db, Sql } from "../db/client";
import { deleteAccount, insertAccount, renameAccount, type Tenant } from "../db/tenants";
import { deleteUser, insertUser, lockAdmins, updateUser, userById, type NewUser as UserRow, type Role, type User } from "../db/users";
import { Conflict, Forbidden, NotFound } from "../errors";
import type { NewUser, UserPatch } from "../models";
import { hashPassword } from "./passwords";

export type Actor = { id: number; role: Role };

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The account (service-wide email) and the tenant's user together; call it inside a transaction. */
export async function addUser(tx: Db, tenant: Pick<Tenant, "id" | "schema">, user: UserRow): Promise<User> {
  const email = normaliseEmail(user.email);
  await insertAccount(tx, email, tenant.id);
  return insertUser(tx, tenant.schema, { ...user, email, first_name: user.first_name.trim(), last_name: user.last_name.trim() });
}

export async function createUser(sql: Sql, tenant: Pick<Tenant, "id" | "schema">, input: NewUser): Promise<User> {
  const password_hash = await hashPassword(input.password);
  return sql.begin((tx) => addUser(tx, tenant, { ...input, password_hash, role: input.role ?? "member" }));
}

export async function patchUser(sql: Sql, schema: string, actor: Actor, id: number, patch: UserPatch): Promise<User> {
  const self = actor.id === id;
  if (actor.role !== "admin" && (!self || patch.email !== undefined || patch.role !== undefined))
    throw new Forbidden(self ? "members may change only their own name and password" : "only admins manage other users");
  const changes = {
    ...(patch.email !== undefined && { email: normaliseEmail(patch.email) }),
    ...(patch.first_name !== undefined && { first_name: patch.first_name.trim() }),
    ...(patch.last_name !== undefined && { last_name: patch.last_name.trim() }),
    ...(patch.role !== undefined && { role: patch.role }),
    ...(patch.password !== undefined && { password_hash: await hashPassword(patch.password) }),
  };
  return sql.begin(async (tx) => {
    const before = await userById(tx, schema, id, true);
    if (!before) throw new NotFound(`user ${id}`);
    if (before.role === "admin" && changes.role === "member" && (await lockAdmins(tx, schema)).length <= 1)
      throw new Conflict("the last admin cannot be demoted");
    if (changes.email && changes.email !== before.email && !(await renameAccount(tx, before.email, changes.email)))
      throw new Conflict(`the account of ${before.email} changed meanwhile; try again`);
    return (await updateUser(tx, schema, id, changes))!;
  });
}

export async function removeUser(sql: Sql, schema: string, actor: Actor, id: number): Promise<User> {
  if (actor.role !== "admin") throw new Forbidden("only admins manage users");
  return sql.begin(async (tx) => {
    const admins = await lockAdmins(tx, schema);
    if (admins.includes(id) && admins.length <= 1) throw new Conflict("the last admin cannot be removed");
    const removed = await deleteUser(tx, schema, id);
    if (!removed) throw new NotFound(`user ${id}`);
    await deleteAccount(tx, removed.email);
    return removed;
  });
}
