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

  test("the public edge's defaults: limits on, registration open, quotas of 1,000 users and 100,000 tasks, no proxy trusted", () => {
    const c = loadConfig({});
    expect(c.rate).toEqual({ register: { limit: 5, window: 600 }, loginEmail: { limit: 10, window: 900 }, loginIp: { limit: 60, window: 60 }, users: { limit: 30, window: 60 }, tenant: undefined });
    expect(c).toMatchObject({ registration: "open", quotas: { users: 1000, tasks: 100_000 }, trustProxy: 0 });
    expect(Object.isFrozen(c.rate) && Object.isFrozen(c.quotas)).toBe(true);
  });

  test("rate limits read <count>/<window> with s, m, h or d, or off", () => {
    const c = loadConfig({ RATE_REGISTER: "3/1h", RATE_LOGIN_EMAIL: "off", RATE_LOGIN_IP: "100/3600", RATE_USERS: "20 / m", TENANT_RATE: "50" });
    expect(c.rate).toEqual({ register: { limit: 3, window: 3600 }, loginEmail: undefined, loginIp: { limit: 100, window: 3600 }, users: { limit: 20, window: 60 }, tenant: 50 });
    expect(loadConfig({ RATE_REGISTER: "1/2d" }).rate.register).toEqual({ limit: 1, window: 172_800 });
    for (const bad of ["5", "5/", "0/1m", "x/1m", "5/10y", "5/8d", "-1/1m"]) expect(() => loadConfig({ RATE_REGISTER: bad })).toThrow(/RATE_REGISTER/);
    expect(() => loadConfig({ TENANT_RATE: "0" })).toThrow(/TENANT_RATE/);
  });

  test("REGISTRATION, TENANT_MAX_USERS and TENANT_MAX_TASKS", () => {
    expect(loadConfig({ REGISTRATION: "Closed", TENANT_MAX_USERS: "5", TENANT_MAX_TASKS: "off" })).toMatchObject({ registration: "closed", quotas: { users: 5, tasks: undefined } });
    expect(() => loadConfig({ REGISTRATION: "invite" })).toThrow(/REGISTRATION/);
    expect(() => loadConfig({ TENANT_MAX_USERS: "0" })).toThrow(/TENANT_MAX_USERS/);
    expect(() => loadConfig({ TENANT_MAX_TASKS: "3000000000" })).toThrow(/TENANT_MAX_TASKS/);
  });

  test("TRUST_PROXY is a hop count or proxy addresses/CIDRs; nothing that trusts every address", () => {
    expect(loadConfig({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: "off" }).trustProxy).toBe(0);
    expect(loadConfig({ TRUST_PROXY: "10.0.0.0/8, 127.0.0.1, fd00::/8" }).trustProxy).toEqual(["10.0.0.0/8", "127.0.0.1", "fd00::/8"]);
    for (const bad of ["true", "0.0.0.0/0", "::/0", "10.0.0.0/33", "10.0.0/8", "proxy.local", "10.0.0.0/", "17"])
      expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY/);
  });
});
