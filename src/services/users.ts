// User management rules: only admins manage users; anyone may edit their own name and password;
// the last admin can be neither demoted nor removed. Emails stay unique across the service. A new
// password or email ends the user's other sessions (an admin's reset of someone else ends them all).
// A tenant holds at most TENANT_MAX_USERS users, counted as they are inserted (db/users.ts).
import type { Sql } from "../db/client";
import { deleteSessions } from "../db/sessions";
import { releaseTasks } from "../db/tasks";
import { deleteAccount, insertAccount, renameAccount, type Tenant } from "../db/tenants";
import { deleteUser, insertUser, lockAdmins, updateUser, userById, type User, type UserRow } from "../db/users";
import { sha256 } from "../digest";
import { Conflict, Forbidden, NotFound, PreconditionFailed, QuotaExceeded } from "../errors";
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

/** A new user's row: the password hashed (argon2 is slow on purpose: do it before any transaction), the role defaulted. */
export async function newUserRow({ password, role, ...names }: NewUser): Promise<UserRow> {
  return { ...names, password_hash: await hashPassword(password), role: role ?? "member" };
}

/** Refuses (412) a change made against a version of the user that is no longer current (If-Match); call it with the row locked. */
function checkVersion(user: User, versions: number[] | undefined) {
  if (versions && !versions.includes(user.version)) throw new PreconditionFailed(`user ${user.id}`);
}

/** `versions`: the versions the caller's If-Match accepts; undefined for any. */
export async function patchUser(
  { db, cache }: Store,
  { tenant: { schema }, user: actor, token }: Caller,
  id: number,
  patch: UserPatch,
  versions?: number[],
): Promise<User> {
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
      checkVersion(before, versions);
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

export async function removeUser({ db, cache }: Store, { tenant: { schema }, user: actor }: Caller, id: number, versions?: number[]): Promise<User> {
  if (actor.role !== "admin") throw new Forbidden("only admins manage users");
  const removed = await db.run(schema, (sql) =>
    sql.begin(async (tx) => {
      const admins = await lockAdmins(tx, schema);
      if (versions) {
        const current = await userById(tx, schema, id, true);
        if (!current) throw new NotFound(`user ${id}`);
        checkVersion(current, versions);
      }
      if (admins.includes(id) && admins.length <= 1) throw new Conflict("the last admin cannot be removed");
      await releaseTasks(tx, schema, id);
      const user = await deleteUser(tx, schema, id);
      if (!user) throw new NotFound(`user ${id}`);
      await deleteAccount(tx, user.email);
      return user;
    }),
  );
  cache.evictUser(schema, id);
  return removed;
}
