import { describe, expect, test } from "bun:test";
import { isSchemaName, schemaFor } from "../../src/db/names";

describe("schema names", () => {
  test("accept the contract's pattern only", () => {
    for (const ok of ["a", "acme", "acme_inc_2", "a".repeat(63)]) expect(isSchemaName(ok)).toBe(true);
    const hostile = ["", "Acme", "1acme", "_x", "a".repeat(64), "public", "pg_catalog", "pg_toast", "information_schema",
      "a;drop schema public", 'a"b', "a'b", "ünï", "a b", "a-b", "a\u0000"];
    for (const bad of hostile) expect(isSchemaName(bad)).toBe(false);
  });

  test("derive a valid, distinct schema from any company name", () => {
    const names = ["Acme Inc", "Crème Brûlée Ltd", "123 Go", "pg_admin corp", "!!!", "日本企業", "x".repeat(300)];
    for (const n of names) expect(isSchemaName(schemaFor(n))).toBe(true);
    expect(schemaFor("Acme Inc")).toMatch(/^acme_inc_[0-9a-f]{6}$/);
    expect(schemaFor("Acme")).not.toBe(schemaFor("Acme"));
  });
});
