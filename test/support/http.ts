// Drive the real app in-process: app.handle(new Request(…)), no port.
import { treaty } from "@elysiajs/eden";
import { faker } from "@faker-js/faker";
import { afterAll } from "bun:test";
import { createApp, type App } from "../../src/app";
import type { Config } from "../../src/config";
import { database as openPool } from "../../src/db/client";
import type { Source } from "../../src/migrator/source";
import { AuthCache } from "../../src/services/cache";
import { dropTenant } from "../../src/services/tenants";
import { database, slowMachine, source, testConfig } from "./db";

export type Reply = { status: number; headers: Headers; body: any };
type Problem = { code: string; message: string; details?: { path: string; message?: string }[] };

/**
 * The error of a typed-client call, as the service sends it ({ error: { code, message, details? } },
 * from src/http/errors.ts); Eden types only Elysia's own validation shape there.
 */
export function problemOf(reply: { error: { value: unknown } | null }): Problem | undefined {
  return (reply.error?.value as { error?: Problem } | undefined)?.error;
}
type Options = { headers?: Record<string, string>; body?: unknown; raw?: string };

/**
 * The app on the shared test database. `ownPool`: on connections of its own, like another server
 * process (with its own caches either way), so two instances' queries truly run side by side.
 */
export async function testApp(overrides: Partial<Config> = {}, migrations: Source = source, options: { ownPool?: boolean } = {}) {
  slowMachine();
  const shared = await database();
  const config = Object.freeze({ ...testConfig, ...overrides });
  const db = options.ownPool ? openPool(shared.url, { ...config, citus: shared.citus }) : shared;
  const { sql } = db;
  const cache = new AuthCache(config.authCacheSeconds);
  const app = createApp({ config, db, source: migrations, cache });
  const created: string[] = [];
  afterAll(async () => {
    for (const schema of created) await dropTenant(sql, schema).catch(() => {});
    if (db !== shared) await db.close();
  });

  async function req(method: string, path: string, options: Options = {}): Promise<Reply> {
    const headers = new Headers(options.headers);
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: response.status, headers: response.headers, body: parsed };
  }

  /**
   * The typed client (Eden Treaty) on this app, in-process and on http://localhost like `req`: a
   * route whose shape changes breaks the tests that call it at `tsc --noEmit`.
   */
  function client(headers: Record<string, string> = {}) {
    // Eden calls fetch(url, init) with a string URL; Bun's `typeof fetch` also has `preconnect`, hence the cast.
    const fetcher = (url: string, init?: RequestInit) => app.handle(new Request(url, init));
    // parseDate: false keeps timestamps the strings they are on the wire (and in the types).
    return treaty<App>("http://localhost", { fetcher: fetcher as unknown as typeof fetch, headers, parseDate: false });
  }

  /** Registers a new company through the API; its schema is dropped after the file's tests. */
  async function signUp(extra: Partial<Record<string, string>> = {}) {
    const first_name = faker.person.firstName();
    const last_name = faker.person.lastName();
    const password = faker.internet.password({ length: 14 });
    const email = `${crypto.randomUUID().slice(0, 8)}.${faker.internet.email({ firstName: first_name, lastName: last_name })}`.toLowerCase();
    const r = await req("POST", "/auth/register", {
      body: { company_name: faker.company.name(), email, password, first_name, last_name, ...extra },
    });
    if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
    created.push(r.body.tenant.schema);
    const schema: string = r.body.tenant.schema;
    const token: string = r.body.token;
    return { schema, token, email, password, user: r.body.user, headers: { tenant: schema, authorization: `Bearer ${token}` } };
  }

  return { app, db, sql, config, cache, req, client, signUp, track: (schema: string) => created.push(schema) };
}

export type TestApp = Awaited<ReturnType<typeof testApp>>;
