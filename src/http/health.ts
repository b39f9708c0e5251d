// Liveness (the process answers) and readiness (the database answers, on a connection of its own,
// within the connect timeout, and the registry is at head).
import { Elysia } from "elysia";
import type { Deps } from "../app";
import { AppError, Unavailable } from "../errors";

export const healthRoutes = ({ db, source }: Deps) =>
  new Elysia({ prefix: "/health", detail: { tags: ["health"] } })
    .get("/", () => ({ status: "ok" }), { detail: { summary: "Liveness" } })
    .get(
      "/db",
      async () => {
        const head = source.public.length;
        const revision = await db.ping().catch(() => {
          throw new Unavailable("database_unavailable", "the database is unavailable");
        });
        if (revision !== head) throw new AppError(503, "not_ready", `the registry is at ${revision}, head is ${head}`);
        return { status: "ok", registry: { revision, head } };
      },
      { detail: { summary: "Readiness: database reachable, registry migrated" } },
    );
