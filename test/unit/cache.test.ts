import { describe, expect, setSystemTime, test } from "bun:test";
import { AuthCache, TtlCache } from "../../src/services/cache";

describe("TtlCache", () => {
  test("forgets entries after the ttl", () => {
    const cache = new TtlCache<number>(1000);
    setSystemTime(new Date("2026-01-01T00:00:00Z"));
    cache.set("a", 1);
    expect(cache.get("a")).toBe(1);
    setSystemTime(new Date("2026-01-01T00:00:01.001Z"));
    expect(cache.get("a")).toBeUndefined();
    setSystemTime();
  });

  test("keeps at most max entries, dropping the oldest", () => {
    const cache = new TtlCache<number>(60_000, 2);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3);
    expect([cache.get("a"), cache.get("b"), cache.get("c"), cache.size]).toEqual([undefined, 2, 3, 2]);
  });

  test("a ttl of 0 disables caching", () => {
    const cache = new TtlCache<number>(0);
    cache.set("a", 1);
    expect(cache.get("a")).toBeUndefined();
  });
});

describe("AuthCache evictions", () => {
  const session = (schema: string, user_id: number) => ({ schema, user_id, role: "member" as const, expires_at: new Date("2099-01-01T00:00:00.000Z"), expires: Date.parse("2099-01-01") });

  test("a user's sessions go, other users' and tenants' stay", () => {
    const cache = new AuthCache(60);
    cache.sessions.set(AuthCache.sessionKey("a", "t1"), session("a", 1));
    cache.sessions.set(AuthCache.sessionKey("a", "t2"), session("a", 2));
    cache.sessions.set(AuthCache.sessionKey("b", "t3"), session("b", 1));
    cache.evictUser("a", 1);
    expect(cache.sessions.get(AuthCache.sessionKey("a", "t1"))).toBeUndefined();
    expect(cache.sessions.get(AuthCache.sessionKey("a", "t2"))).toBeDefined();
    expect(cache.sessions.get(AuthCache.sessionKey("b", "t3"))).toBeDefined();
  });

  test("evicting a tenant drops its row, its hosts and its sessions", () => {
    const cache = new AuthCache(60);
    const tenant = { id: 1, name: "A", schema: "a", host: "a.test", status: "active" as const, revision: 1, checksum: "", created_at: new Date("2026-01-01T00:00:00.000Z") };
    cache.tenants.set("a", tenant);
    cache.hosts.set("a.test", tenant);
    cache.sessions.set(AuthCache.sessionKey("a", "t1"), session("a", 1));
    cache.evictTenant("a");
    expect([cache.tenants.size, cache.hosts.size, cache.sessions.size]).toEqual([0, 0, 0]);
  });
});
