// Authentication, owned here: which tenant a request is for (its header, or its Host), whether the
// bearer token is a live session of that tenant, and the caller's role; sign-up, sign-in and
// sign-out. Tokens are 256 random bits of which only a SHA-256 is stored, in the tenant's own
// sessions table. Lookups are cached per instance (cache.ts); every service evicts what its own
// writes invalidate, so the instance that revokes never accepts a revoked token again.
import type { Database, Sql } from "../db/client";
import { isSchemaName } from "../db/names";
import { deleteExpiredSessions, deleteSession, insertSession, sessionByHash } from "../db/sessions";
import { accountTenant, tenantByHost, tenantBySchema, type Tenant } from "../db/tenants";
import { credentials, type Role, type User } from "../db/users";
import { AppError, Forbidden, Unauthorized } from "../errors";
import type { Migration } from "../migrator/files";
import type { Admin, NewTenant, Registration } from "../models";
import { AuthCache, type CachedSession } from "./cache";
import { sha256 } from "../digest";
import { hashPassword, sameSecret, verifyPassword } from "./passwords";
import { createTenant } from "./tenants";
import { addUser, normaliseEmail } from "./users";

/** What services work on: the database, and this instance's caches of it. */
export type Store = { db: Database; cache: AuthCache };
export type Caller = { tenant: Tenant; user: { id: number; role: Role }; token: string };

const TOKEN = /^Bearer ([A-Za-z0-9_-]{43})$/;

/** A new session for the user; the token is returned once and never stored. */
export async function issueToken(sql: Sql, schema: string, userId: number, ttlHours: number) {
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  const expires_at = new Date(Date.now() + ttlHours * 3_600_000);
  await insertSession(sql, schema, sha256(token), userId, expires_at);
  return { token, expires_at };
}

export type SignedIn = Awaited<ReturnType<typeof issueToken>> & { tenant: Tenant; user: User };

async function resolveTenant({ db, cache }: Store, schema: string | undefined, host: string): Promise<Tenant> {
  if (schema !== undefined && !isSchemaName(schema)) throw new AppError(400, "invalid_tenant", "public, pg_* and information_schema are not tenants");
  const memo = schema ? cache.tenants : cache.hosts;
  let tenant = memo.get(schema ?? host);
  if (!tenant) {
    tenant = schema
      ? await db.run(schema, tenantBySchema)
      : await db.run("public", async (sql) => (await tenantByHost(sql, host)) ?? (await tenantByHost(sql, host.replace(/:\d+$/, ""))));
    if (!tenant) {
      if (schema) throw new AppError(404, "tenant_not_found", `tenant ${schema} not found`);
      throw new AppError(400, "tenant_required", "send the tenant header (no tenant is registered for this host)");
    }
    memo.set(schema ?? host, tenant);
  }
  if (tenant.status !== "active") throw new AppError(403, "tenant_suspended", `tenant ${tenant.schema} is suspended`);
  return tenant;
}

async function liveSession({ db, cache }: Store, schema: string, token: string): Promise<CachedSession> {
  const key = AuthCache.sessionKey(schema, token);
  let session = cache.sessions.get(key);
  if (!session) {
    const row = await db.run(schema, sessionByHash, sha256(token));
    if (row) cache.sessions.set(key, (session = { ...row, schema, expires: row.expires_at.getTime() }));
  }
  if (session && session.expires > Date.now()) return session;
  cache.sessions.delete(key);
  throw new Unauthorized("the token is invalid, expired or revoked");
}

/** The tenant (header, else Host), then a live session of that same tenant, then the role if one is required. */
export async function authenticate(store: Store, request: { schema?: string; host: string; authorization?: string }, role?: Role): Promise<Caller> {
  const tenant = await resolveTenant(store, request.schema, request.host.toLowerCase());
  const token = TOKEN.exec(request.authorization ?? "")?.[1];
  if (!token) throw new Unauthorized(request.authorization ? "the token is invalid, expired or revoked" : "Authorization: Bearer <token> is required");
  const session = await liveSession(store, tenant.schema, token);
  if (role && session.role !== role) throw new Forbidden(`only ${role}s may do this`);
  return { tenant, user: { id: session.user_id, role: session.role }, token };
}

/** Operators (/cc, /metrics) present ADMIN_TOKEN, compared in constant time; with none configured the door is closed (503). */
export function authorizeOperator(adminToken: string | undefined, authorization: string | undefined, offCode: string) {
  if (!adminToken) throw new AppError(503, offCode, "this needs ADMIN_TOKEN to be set");
  const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
  if (!token || !sameSecret(token, adminToken)) throw new Unauthorized("Authorization: Bearer <ADMIN_TOKEN> is required");
}

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
export async function register({ db }: Store, local: readonly Migration[], { company_name, ...admin }: Registration, ttlHours: number): Promise<SignedIn> {
  const { tenant, user, token, expires_at } = await createWithAdmin(db.sql, local, { name: company_name }, admin, ttlHours);
  return { tenant, user, token: token!, expires_at: expires_at! };
}

export async function login({ db }: Store, input: { email: string; password: string }, ttlHours: number): Promise<SignedIn> {
  const email = normaliseEmail(input.email);
  const tenant = await db.run("public", (sql) => accountTenant(sql, email));
  const found = tenant && (await db.run(tenant.schema, credentials, email));
  if (!(await verifyPassword(input.password, found?.password_hash)) || !tenant || !found)
    throw new AppError(401, "invalid_credentials", "email or password is wrong");
  if (tenant.status !== "active") throw new Forbidden(`tenant ${tenant.schema} is suspended`);
  const { password_hash: _, ...user } = found;
  const issued = await db.run(tenant.schema, async (sql) => {
    await deleteExpiredSessions(sql, tenant.schema, user.id);
    return issueToken(sql, tenant.schema, user.id, ttlHours);
  });
  return { tenant, user, ...issued };
}

export async function logout({ db, cache }: Store, schema: string, token: string) {
  await db.run(schema, deleteSession, sha256(token));
  cache.sessions.delete(AuthCache.sessionKey(schema, token));
}
