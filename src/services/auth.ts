// Sign-up, sign-in and tokens: 256-bit random bearer tokens of which only a SHA-256 is stored,
// in the tenant's own sessions table.
import type { Db, Sql } from "../db/client";
import { deleteExpiredSessions, deleteSession, insertSession } from "../db/sessions";
import { accountTenant, type Tenant } from "../db/tenants";
import { credentials, type User } from "../db/users";
import { AppError, Forbidden } from "../errors";
import type { Migration } from "../migrator/files";
import type { Admin, NewTenant, Registration } from "../models";
import { hashPassword, verifyPassword } from "./passwords";
import { createTenant } from "./tenants";
import { addUser, normaliseEmail } from "./users";

export function tokenHash(token: string): Uint8Array {
  return new Bun.CryptoHasher("sha256").update(token).digest();
}

export type Issued = { token: string; expires_at: Date };

/** A new session for the user; the token is returned once and never stored. */
export async function issueToken(db: Db, schema: string, userId: number, ttlHours: number): Promise<Issued> {
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  const expires_at = new Date(Date.now() + ttlHours * 3_600_000);
  await insertSession(db, schema, tokenHash(token), userId, expires_at);
  return { token, expires_at };
}

export type SignedIn = Issued & { tenant: Tenant; user: User };

/** A new tenant with its first admin, and a token for them when `ttlHours` is given: one transaction. */
export async function createWithAdmin(sql: Sql, local: readonly Migration[], tenant: Omit<NewTenant, "admin">, admin: Admin, ttlHours?: number) {
  const password_hash = await hashPassword(admin.password);
  const [created, signedIn] = await createTenant(sql, local, tenant, async (tx, t) => {
    const user = await addUser(tx, t, { ...admin, password_hash, role: "admin" });
    return { user, ...(ttlHours !== undefined && (await issueToken(tx, t.schema, user.id, ttlHours))) };
  });
  return { tenant: created, ...signedIn };
}

/** Sign-up: a company becomes a tenant, its first user the admin, signed in. */
export function register(sql: Sql, local: readonly Migration[], { company_name, ...admin }: Registration, ttlHours: number): Promise<SignedIn> {
  return createWithAdmin(sql, local, { name: company_name }, admin, ttlHours) as Promise<SignedIn>;
}

export async function login(sql: Sql, input: { email: string; password: string }, ttlHours: number): Promise<SignedIn> {
  const email = normaliseEmail(input.email);
  const tenant = await accountTenant(sql, email);
  const found = tenant && (await credentials(sql, tenant.schema, email));
  if (!(await verifyPassword(input.password, found?.password_hash)) || !tenant || !found)
    throw new AppError(401, "invalid_credentials", "email or password is wrong");
  if (tenant.status !== "active") throw new Forbidden(`tenant ${tenant.schema} is suspended`);
  const { password_hash: _, ...user } = found;
  await deleteExpiredSessions(sql, tenant.schema, user.id);
  return { tenant, user, ...(await issueToken(sql, tenant.schema, user.id, ttlHours)) };
}

export function logout(sql: Sql, schema: string, token: string) {
  return deleteSession(sql, schema, tokenHash(token));
}
