// Liveness, readiness, and the OpenAPI document.
import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/app";
import { database } from "../../src/db/client";
import { freePort } from "../../src/db/embedded";
import { source, testConfig } from "../support/db";
import { testApp } from "../support/http";
import { migrationFile } from "../support/migrations";

const api = await testApp();

describe("health", () => {
  test("/health answers without the database; /health/db reports the registry at head", async () => {
    expect(await api.req("GET", "/health")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await api.req("GET", "/health/db")).toMatchObject({ status: 200, body: { status: "ok", registry: { revision: source.public.length, head: source.public.length } } });
  });

  test("/health/db is a 503 when the registry is behind the code", async () => {
    const ahead = await testApp({}, { ...source, public: [...source.public, migrationFile(source.public.length + 1, "select 1;")] });
    const r = await ahead.req("GET", "/health/db");
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("not_ready");
  });

  test("/health/db is a 503, not a hang or a 500, when the database is unreachable", async () => {
    const port = await freePort();
    const db = database(`postgres://nobody@127.0.0.1:${port}/none`, { ...testConfig, dbPoolMax: 1 });
    const app = createApp({ config: testConfig, db, source });
    const r = await app.handle(new Request("http://localhost/health/db"));
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("1");
    expect((await app.handle(new Request("http://localhost/health"))).status).toBe(200);
    await db.close();
  });
});

describe("OpenAPI", () => {
  test("/swagger/json documents every route, both headers as security schemes, and the error shape", async () => {
    const doc = (await api.req("GET", "/swagger/json")).body;
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    for (const route of [
      "POST /auth/register", "POST /auth/login", "POST /auth/logout", "GET /auth/me",
      "GET /users/", "POST /users/", "GET /users/{id}", "PATCH /users/{id}", "DELETE /users/{id}",
      "GET /tasks/", "POST /tasks/", "DELETE /tasks/", "GET /tasks/{id}", "PATCH /tasks/{id}", "DELETE /tasks/{id}",
      "GET /cc/tenants", "POST /cc/tenants", "GET /cc/tenants/{schema}", "DELETE /cc/tenants/{schema}", "POST /cc/tenants/{schema}/migrate", "POST /cc/migrate", "GET /cc/audit",
      "GET /health/", "GET /health/db",
    ])
      expect(routes).toContain(route);
    expect(doc.components.securitySchemes.tenant).toMatchObject({ type: "apiKey", in: "header", name: "tenant" });
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.schemas.Error.properties.error.required).toEqual(["code", "message"]);
    const tasks = doc.paths["/tasks/"].get;
    expect(tasks.security).toEqual([{ tenant: [], bearer: [] }]);
    expect(tasks.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["completed", "sort", "limit"]));
    expect(Object.keys(tasks.responses)).toEqual(expect.arrayContaining(["401", "422"]));
  });

  test("/swagger/json is OpenAPI 3.1 and documents the conditional and idempotency headers, ETag and their statuses", async () => {
    const doc = (await api.req("GET", "/swagger/json")).body;
    expect(doc.openapi).toStartWith("3.1");
    const headers = (op: { parameters?: { name: string; in: string }[] }) => op.parameters!.filter((p) => p.in === "header").map((p) => p.name);
    const documented: [string, string, string, string[]][] = [
      ["/tasks/", "get", "if-none-match", ["200", "304"]],
      ["/tasks/{id}", "get", "if-none-match", ["200", "304"]],
      ["/tasks/{id}", "patch", "if-match", ["200", "412"]],
      ["/tasks/{id}", "delete", "if-match", ["412"]],
      ["/tasks/", "post", "idempotency-key", ["201", "409", "422"]],
      ["/users/", "get", "if-none-match", ["200", "304"]],
      ["/users/{id}", "patch", "if-match", ["200", "412"]],
      ["/users/", "post", "idempotency-key", ["201", "409", "422"]],
    ];
    for (const [path, method, header, statuses] of documented) {
      const op = doc.paths[path][method];
      expect({ path, method, headers: headers(op) }).toEqual({ path, method, headers: expect.arrayContaining([header, "tenant", "authorization"]) });
      expect({ path, method, statuses: Object.keys(op.responses) }).toEqual({ path, method, statuses: expect.arrayContaining(statuses) });
    }
    expect(doc.paths["/tasks/{id}"].get.responses["200"].headers.ETag).toEqual({ $ref: "#/components/headers/ETag" });
    expect(doc.components.responses["304"].headers.ETag).toBeDefined();
    expect(doc.components.responses["412"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
    // Each route lists its own responses (no route's statuses leak into another's).
    expect(Object.keys(doc.paths["/tasks/"].delete.responses)).not.toContain("304");
  });

  test("/swagger is Swagger UI from the service's own assets, nothing from elsewhere; /openapi leads there", async () => {
    const page = await api.req("GET", "/swagger");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toStartWith("text/html");
    const sources = [...(page.body as string).matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources).toEqual(expect.arrayContaining(["/swagger/assets/swagger-ui-bundle.js", "/swagger/assets/swagger-ui.css"]));
    expect(sources.filter((s) => /^(https?:)?\/\//.test(s!))).toEqual([]);
    for (const asset of ["/swagger/assets/swagger-ui-bundle.js", "/swagger/assets/swagger-ui.css"]) expect((await api.req("GET", asset)).status).toBe(200);
    expect((await api.req("GET", "/openapi")).headers.get("location")).toBe("/swagger");
    expect((await api.req("GET", "/openapi/json")).headers.get("location")).toBe("/swagger/json");
  });
});
