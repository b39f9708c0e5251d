import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config";

describe("loadConfig", () => {
  test("defaults: embedded database, port 3000, /cc off, prepared statements on", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ databaseUrl: undefined, port: 3000, host: "0.0.0.0", adminToken: undefined, dbPrepare: true, corsOrigins: "*" });
    expect(Object.isFrozen(c)).toBe(true);
  });

  test("DATABASE_URL wins over the seed's DB_* names, which build a URL with escaped parts", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://a@b/c", DB_HOST: "x" }).databaseUrl).toBe("postgres://a@b/c");
    expect(loadConfig({ DB_HOST: "db", DB_PORT: "6543", DB_DATABASE: "todo", DB_USERNAME: "app", DB_PASSWORD: "p@ss/word" }).databaseUrl).toBe(
      "postgres://app:p%40ss%2Fword@db:6543/todo",
    );
  });

  test("parses tuning values and lists", () => {
    const c = loadConfig({ DB_PREPARE: "false", DB_POOL_MAX: "30", CORS_ORIGINS: "https://a.test, https://b.test", LOG_LEVEL: "WARN" });
    expect(c).toMatchObject({ dbPrepare: false, dbPoolMax: 30, corsOrigins: ["https://a.test", "https://b.test"], logLevel: "warn" });
  });

  test("refuses malformed values with the variable's name", () => {
    expect(() => loadConfig({ PORT: "http" })).toThrow(ConfigError);
    expect(() => loadConfig({ DB_POOL_MAX: "0" })).toThrow(/DB_POOL_MAX/);
    expect(() => loadConfig({ DB_PREPARE: "maybe" })).toThrow(/DB_PREPARE/);
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ ADMIN_TOKEN: "short" })).toThrow(/ADMIN_TOKEN/);
  });
});
