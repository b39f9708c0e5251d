// Request logs and /metrics: what operators see, and what they must never see (tokens).
import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/app";
import { createLogger } from "../../src/log";
import { source } from "../support/db";
import { testApp } from "../support/http";

describe("request logs", () => {
  test("one JSON line per request with method, route, status, duration and tenant, never the token", async () => {
    const lines: string[] = [];
    const api = await testApp();
    const me = await api.signUp();
    const app = createApp({ config: api.config, db: api.db, source, log: createLogger("info", (line) => lines.push(line)) });
    await app.handle(new Request("http://localhost/tasks?limit=5", { headers: me.headers }));
    await app.handle(new Request("http://localhost/tasks/424242", { headers: me.headers }));
    await app.handle(new Request("http://localhost/tasks", { headers: { tenant: "a;drop", authorization: "Bearer leaked" } }));
    await Bun.sleep(20); // logs are written after the response is sent
    const entries = lines.map((l) => JSON.parse(l)).filter((e) => e.msg === "request");
    expect(entries).toHaveLength(3);
    expect(entries[0]).toMatchObject({ level: "info", method: "GET", route: "/tasks/", status: 200, tenant: me.schema });
    expect(entries[0].ms).toBeNumber();
    expect(entries[1]).toMatchObject({ route: "/tasks/:id", status: 404 });
    expect(entries[2]).toMatchObject({ status: 400 });
    expect(entries[2].tenant).toBeUndefined();
    expect(lines.join("\n")).not.toContain(me.token);
    expect(lines.join("\n")).not.toContain("leaked");
  });
});

describe("/metrics", () => {
  test("needs ADMIN_TOKEN by default, and counts requests by route and status", async () => {
    const api = await testApp();
    await api.signUp();
    expect((await api.req("GET", "/metrics")).status).toBe(401);
    await api.req("GET", "/health");
    await api.req("GET", "/no/such/route/1");
    const r = await api.req("GET", "/metrics", { headers: { authorization: `Bearer ${api.config.adminToken}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("text/plain");
    expect(r.body).toContain('http_requests_total{method="GET",route="/health/",status="200"} 1');
    expect(r.body).toContain('route="unmatched",status="404"');
    expect(r.body).toContain('http_request_duration_seconds_bucket{method="GET",route="/health/",le="+Inf"} 1');
    expect(r.body).toMatch(/tenants\{status="active"\} \d+/);
    expect(r.body).toMatch(/db_pool_max \d+/);
  });

  test("METRICS=open needs no token; METRICS=off hides it", async () => {
    expect((await (await testApp({ metrics: "open" })).req("GET", "/metrics")).status).toBe(200);
    const off = await testApp({ metrics: "off" });
    expect((await off.req("GET", "/metrics", { headers: { authorization: `Bearer ${off.config.adminToken}` } })).status).toBe(404);
  });
});
