// User management rules: only admins manage users; anyone may edit their own name and password;
// the last admin can be neither demoted nor removed. Emails stay unique across the service. A new
// password or email ends the user's other sessions (an admin's reset of someone else ends them all).
// A tenant holds at most TENANT_MAX_USERS users, counted as they are inserted (db/users.ts).
import type { Sql } from "../db/client";
import { deleteSessions } from "../db/sessions";
import { deleteAccount, insertAccount, renameAccount, type Tenant } from "../db/tenants";
import { deleteUser, insertUser, lockAdmins, updateUser, userById, type User, type UserRow } from "../db/users";
import { sha256 } from "../digest";
import { Conflict, Forbidden, NotFound, QuotaExceeded } from "../errors";
import type { NewUser, UserPatch } from "../models";
import type { Caller, Store } from "./auth";
import { hashPassword } from "./passwords";

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The account (service-wide email) and the tenant's user together, within `maxUsers`; call it inside a transaction. */
export async function addUser(tx: Sql, tenant: Pick<Tenant, "id" | "schema">, user: UserRow, maxUsers?: number): Promise<User> {
  const email = normaliseEmail(user.email);
  await insertAccount(tx, email, tenant.id);
  const added = await insertUser(tx, tenant.schema, { ...user, email, first_name: user.first_name.trim(), last_name: user.last_name.trim() }, maxUsers);
  if (!added) throw new QuotaExceeded("users", maxUsers!);
  return added;
}

export async function createUser({ db }: Store, tenant: Pick<Tenant, "id" | "schema">, input: NewUser, maxUsers: number | undefined): Promise<User> {
  const password_hash = await hashPassword(input.password);
  return db.run(tenant.schema, (sql) => sql.begin((tx) => addUser(tx, tenant, { ...input, password_hash, role: input.role ?? "member" }, maxUsers)));
}

export async function patchUser({ db, cache }: Store, { tenant: { schema }, user: actor, token }: Caller, id: number, patch: UserPatch): Promise<User> {
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
  const changed = await db.run(schema, (sql) =>
    sql.begin(async (tx) => {
      // The admins first, in id order, then the user: concurrent changes queue here instead of deadlocking.
      const admins = await lockAdmins(tx, schema);
      const before = await userById(tx, schema, id, true);
      if (!before) throw new NotFound(`user ${id}`);
      if (before.role === "admin" && changes.role === "member" && admins.length <= 1) throw new Conflict("the last admin cannot be demoted");
      const newEmail = changes.email !== undefined && changes.email !== before.email;
      if (newEmail && !(await renameAccount(tx, before.email, changes.email!))) throw new Conflict(`the account of ${before.email} changed meanwhile; try again`);
      if (newEmail || changes.password_hash) await deleteSessions(tx, schema, id, self ? sha256(token) : undefined);
      return (await updateUser(tx, schema, id, changes))!;
    }),
  );
  cache.evictUser(schema, id);
  return changed;
}

export async function removeUser({ db, cache }: Store, { tenant: { schema }, user: actor }: Caller, id: number): Promise<User> {
  if (actor.role !== "admin") throw new Forbidden("only admins manage users");
  const removed = await db.run(schema, (sql) =>
    sql.begin(async (tx) => {
      const admins = await lockAdmins(tx, schema);
      if (admins.includes(id) && admins.length <= 1) throw new Conflict("the last admin cannot be removed");
      const user = await deleteUser(tx, schema, id);
      if (!user) throw new NotFound(`user ${id}`);
      await deleteAccount(tx, user.email);
      return user;
    }),
  );
  cache.evictUser(schema, id);
  return removed;
}
