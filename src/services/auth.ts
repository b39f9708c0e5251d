// Sign-up, sign-in and tokens: 256-bit random bearer tokens of which only a SHA-256 is stored,
// in the tenant's own sessions table.
import type { Db, Sql } from "../db/client";
import { deleteExpiredSessions, deleteSession, insertSession } from "../db/sessions";
import { accountTenant, type Tenant } from "../db/tenants";
import { credentials, type User } from "../db/users";
import { AppError, Forbidden } from "../errors";
import type { Migration } from "../migrator/files";
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

export type Registration = { company_name: string; email: string; password: string; first_name: string; last_name: string };
export type SignedIn = Issued & { tenant: Tenant; user: User };

/** A new tenant with its first admin and a token: one transaction, nothing half-made on failure. */
export async function register(sql: Sql, local: readonly Migration[], input: Registration, ttlHours: number): Promise<SignedIn> {
  const password_hash = await hashPassword(input.password);
  const [tenant, signedIn] = await createTenant(sql, local, { name: input.company_name }, async (tx, tenant) => {
    const user = await addUser(tx, tenant, { ...input, password_hash, role: "admin" });
    return { user, ...(await issueToken(tx, tenant.schema, user.id, ttlHours)) };
  });
  return { tenant, ...signedIn };
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
