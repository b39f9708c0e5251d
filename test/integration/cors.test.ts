// CORS as browser clients see it: with * (the default) and with a list of origins.
import { describe, expect, test } from "bun:test";
import { testApp } from "../support/http";

const preflight = (origin: string) => ({
  headers: { origin, "access-control-request-method": "PATCH", "access-control-request-headers": "tenant, authorization, if-match" },
});

const api = await testApp();
const listed = await testApp({ corsOrigins: ["https://a.example", "https://b.example"] });

describe("CORS_ORIGINS=*", () => {
  test("preflight allows the tenant, Authorization, conditional and idempotency headers; responses expose ETag", async () => {
    const r = await api.req("OPTIONS", "/tasks/1", preflight("https://www.todobackend.com"));
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    for (const header of ["tenant", "authorization", "content-type", "if-match", "if-none-match", "idempotency-key"])
      expect(r.headers.get("access-control-allow-headers")!.split(", ")).toContain(header);
    expect(r.headers.get("access-control-allow-methods")).toContain("PATCH");
    expect(r.headers.get("access-control-max-age")).toBe("600");
    const owner = await api.signUp();
    const list = await api.req("GET", "/tasks", { headers: { ...owner.headers, origin: "https://www.todobackend.com" } });
    expect(list.headers.get("access-control-expose-headers")!.split(", ")).toEqual(expect.arrayContaining(["x-total-count", "link", "location", "etag"]));
    // Any origin gets the same answer, so nothing varies.
    expect(list.headers.get("vary")).toBeNull();
  });

  test("no Origin, no CORS headers", async () => {
    const r = await api.req("GET", "/health");
    expect([...r.headers.keys()].filter((k) => k.startsWith("access-control-"))).toEqual([]);
  });
});

describe("CORS_ORIGINS=a list", () => {
  test("a listed origin is echoed; every response, with or without Origin, says Vary: Origin", async () => {
    const allowed = await listed.req("OPTIONS", "/tasks", preflight("https://b.example"));
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://b.example");
    expect(allowed.headers.get("vary")).toBe("Origin");
    const plain = await listed.req("GET", "/health");
    expect(plain.headers.get("vary")).toBe("Origin");
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("another origin gets no CORS headers at all, and its preflight is not answered", async () => {
    const simple = await listed.req("GET", "/health", { headers: { origin: "https://evil.example" } });
    expect(simple.status).toBe(200);
    expect(simple.headers.get("vary")).toBe("Origin");
    expect([...simple.headers.keys()].filter((k) => k.startsWith("access-control-"))).toEqual([]);
    expect((await listed.req("OPTIONS", "/tasks", preflight("https://evil.example"))).status).toBe(404);
  });
});
