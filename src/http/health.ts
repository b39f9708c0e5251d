// Liveness (the process answers) and readiness (the database answers and the registry is at head).
import { Elysia } from "elysia";
import type { Deps } from "../app";
import { problem } from "./errors";

export const healthRoutes = ({ sql, source }: Deps) =>
  new Elysia({ prefix: "/health", detail: { tags: ["health"] } })
    .get("/", () => ({ status: "ok" }), { detail: { summary: "Liveness" } })
    .get(
      "/db",
      async ({ status }) => {
        const head = source.public.length;
        try {
          const [row] = await sql`select coalesce(max(version), 0)::int as revision from public.schema_migrations`;
          if (row!.revision !== head) return status(503, problem("not_ready", `the registry is at ${row!.revision}, head is ${head}`));
          return { status: "ok", registry: { revision: row!.revision, head } };
        } catch {
          return status(503, problem("unavailable", "the database is unavailable"));
        }
      },
      { detail: { summary: "Readiness: database reachable, registry migrated" } },
    );
