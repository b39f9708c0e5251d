// The registry (public.tenants, public.accounts). Always schema-qualified: migrations set search_path.
import type { Db } from "./client";

export type TenantStatus = "active" | "suspended";
export type Tenant = {
  id: number;
  name: string;
  schema: string;
  host: string | null;
  status: TenantStatus;
  revision: number;
  checksum: string;
  created_at: string;
};

export async function insertTenant(db: Db, tenant: { name: string; schema: string; host: string | null; status: TenantStatus }): Promise<Tenant> {
  const [row] = await db<Tenant[]>`insert into public.tenants ${db(tenant, "name", "schema", "host", "status")} returning *`;
  return row!;
}

export async function tenantBySchema(db: Db, schema: string): Promise<Tenant | undefined> {
  const [row] = await db<Tenant[]>`select * from public.tenants where schema = ${schema}`;
  return row;
}

export async function tenantByHost(db: Db, host: string): Promise<Tenant | undefined> {
  const [row] = await db<Tenant[]>`select * from public.tenants where host = ${host}`;
  return row;
}

/** Every tenant, or only the named ones. */
export function listTenants(db: Db, schemas?: readonly string[]): Promise<Tenant[]> {
  return db<Tenant[]>`
    select * from public.tenants ${schemas ? db`where schema = any(${schemas as string[]})` : db``} order by schema`;
}

export async function deleteTenant(db: Db, schema: string): Promise<boolean> {
  const rows = await db`delete from public.tenants where schema = ${schema} returning id`;
  return rows.length > 0;
}

export async function setTenantStatus(db: Db, schema: string, status: TenantStatus): Promise<Tenant | undefined> {
  const [row] = await db<Tenant[]>`update public.tenants set status = ${status} where schema = ${schema} returning *`;
  return row;
}

/** The migrator's OnApplied hook for tenant schemas: same transaction as the schema_migrations row. */
export async function setRevision(db: Db, schema: string, revision: number, checksum: string) {
  await db`update public.tenants set revision = ${revision}, checksum = ${checksum} where schema = ${schema}`;
}

export async function insertAccount(db: Db, email: string, tenantId: number) {
  await db`insert into public.accounts (email, tenant_id) values (${email}, ${tenantId})`;
}

export async function accountTenant(db: Db, email: string): Promise<Tenant | undefined> {
  const [row] = await db<Tenant[]>`
    select t.* from public.accounts a join public.tenants t on t.id = a.tenant_id where a.email = ${email}`;
  return row;
}

export async function renameAccount(db: Db, from: string, to: string): Promise<boolean> {
  const rows = await db`update public.accounts set email = ${to} where email = ${from} returning email`;
  return rows.length === 1;
}

export async function deleteAccount(db: Db, email: string) {
  await db`delete from public.accounts where email = ${email}`;
}
