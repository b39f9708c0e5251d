// The registry (public.tenants, public.accounts). Always schema-qualified: migrations set search_path.
import type { Sql } from "./client";

export type TenantStatus = "active" | "suspended";
export type Tenant = {
  id: number;
  name: string;
  schema: string;
  host: string | null;
  status: TenantStatus;
  revision: number;
  checksum: string;
  created_at: Date;
};

export async function insertTenant(sql: Sql, tenant: { name: string; schema: string; host: string | null; status: TenantStatus }): Promise<Tenant> {
  const [row] = await sql<Tenant[]>`insert into public.tenants ${sql(tenant, "name", "schema", "host", "status")} returning *`;
  return row!;
}

export async function tenantBySchema(sql: Sql, schema: string): Promise<Tenant | undefined> {
  const [row] = await sql<Tenant[]>`select * from public.tenants where schema = ${schema}`;
  return row;
}

export async function tenantByHost(sql: Sql, host: string): Promise<Tenant | undefined> {
  const [row] = await sql<Tenant[]>`select * from public.tenants where host = ${host}`;
  return row;
}

/** Every tenant, or only the named ones. */
export function listTenants(sql: Sql, schemas?: readonly string[]): Promise<Tenant[]> {
  return sql<Tenant[]>`
    select * from public.tenants ${schemas ? sql`where schema = any(${sql.array([...schemas], "TEXT")})` : sql``} order by schema`;
}

export async function deleteTenant(sql: Sql, schema: string): Promise<boolean> {
  return (await sql`delete from public.tenants where schema = ${schema}`).count > 0;
}

export async function setTenantStatus(sql: Sql, schema: string, status: TenantStatus): Promise<Tenant | undefined> {
  const [row] = await sql<Tenant[]>`update public.tenants set status = ${status} where schema = ${schema} returning *`;
  return row;
}

/** The migrator's OnApplied hook for tenant schemas: same transaction as the schema_migrations row. */
export async function setRevision(sql: Sql, schema: string, revision: number, checksum: string) {
  await sql`update public.tenants set revision = ${revision}, checksum = ${checksum} where schema = ${schema}`;
}

export async function insertAccount(sql: Sql, email: string, tenantId: number) {
  await sql`insert into public.accounts (email, tenant_id) values (${email}, ${tenantId})`;
}

export async function accountTenant(sql: Sql, email: string): Promise<Tenant | undefined> {
  const [row] = await sql<Tenant[]>`
    select t.* from public.accounts a join public.tenants t on t.id = a.tenant_id where a.email = ${email}`;
  return row;
}

export async function renameAccount(sql: Sql, from: string, to: string): Promise<boolean> {
  return (await sql`update public.accounts set email = ${to} where email = ${from}`).count === 1;
}

export async function deleteAccount(sql: Sql, email: string) {
  await sql`delete from public.accounts where email = ${email}`;
}
