// Tenant schema names: validated here before they are ever quoted into SQL.

export const SCHEMA_PATTERN = "^[a-z][a-z0-9_]{0,62}$";
const SCHEMA = new RegExp(SCHEMA_PATTERN);

export function isSchemaName(name: string): boolean {
  return SCHEMA.test(name) && name !== "public" && name !== "information_schema" && !name.startsWith("pg_");
}

// A DNS name or an IPv6 literal, with an optional port: registered tenant hosts, forwarded hosts.
const HOST = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(:\d{1,5})?$/i;

export function isHost(name: string): boolean {
  return name.length <= 253 && HOST.test(name);
}

/** A schema for a new company: lower-case ASCII and `_` from its name, plus a short random suffix. */
export function schemaFor(companyName: string): string {
  const base = companyName
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^[^a-z]+|_+$/g, "")
    .slice(0, 40);
  const suffix = Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString("hex").slice(0, 6);
  const name = `${base || "t"}_${suffix}`.replace(/^pg_/, "t_pg_");
  return name;
}
