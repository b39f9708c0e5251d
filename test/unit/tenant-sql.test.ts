// Tenant SQL stays schema-agnostic and self-contained, so each tenant schema can live on its own
// node (Citus schema-based sharding) and run under any schema name.
import { describe, expect, test } from "bun:test";
import { loadSource } from "../../src/migrator/source";

const { tenant } = loadSource();

describe.each(tenant.map((m) => [m.file, m] as const))("sql/tenant/%s", (_, m) => {
  const sections = [m.up, m.down ?? ""].join("\n").replace(/--.*$/gm, "");

  test("has no foreign key into another schema", () => {
    expect(sections).not.toMatch(/references\s+("?[a-z_][a-z0-9_$]*"?)\s*\.\s*"?[a-z_]/i);
  });

  test("names no schema and does not change search_path", () => {
    expect(sections).not.toMatch(/\b(public|pg_catalog|information_schema)\s*\./i);
    expect(sections).not.toMatch(/search_path/i);
    expect(sections).not.toMatch(/\bcreate\s+(schema|extension)\b/i);
  });
});
