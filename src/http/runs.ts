// Fleet migration runs under /cc (behind ADMIN_TOKEN, checked in cc.ts before routing): start
// one, watch it, cancel, resume or revert it. Same service functions as the CLI.
import { Elysia, t } from "elysia";
import type { Deps } from "../app";
import { SCHEMA_PATTERN } from "../db/names";
import { tokenActor } from "../services/audit";
import { operations } from "../services/operations";
import { getRun, present, recentRuns, type Started } from "../services/runs";
import { errorResponses } from "./errors";
import { IdParams, rowId } from "./params";

const common = {
  concurrency: t.Optional(t.Integer({ minimum: 1, maximum: 64, description: "tenants at once; default: half the pool (DB_POOL_MAX / 2)" })),
  max_failures: t.Optional(t.Integer({ minimum: 0, description: "halt once more tenants than this have failed (blocked ones do not count); default: no limit, or 0 with a canary" })),
  async: t.Optional(t.Boolean({ description: "answer 202 with Location: /cc/runs/:id at once instead of the report at the end" })),
};
const dryRun = t.Optional(t.Boolean());
const wave = t.Optional(t.Integer({ minimum: 1, description: "tenants per wave after the canary; each wave finishes before the next starts" }));
const Schema = t.String({ pattern: SCHEMA_PATTERN });

const body = <P extends Record<string, import("@sinclair/typebox").TSchema>>(properties: P) =>
  t.Optional(t.Object(properties, { additionalProperties: false }));

export const runRoutes = ({ db: { sql }, source, config, cache }: Deps) => {
  const local = source.tenant;
  const ops = operations({ sql, cache, actor: tokenActor(config.adminToken ?? "") });
  const shared = (b: { concurrency?: number; max_failures?: number } | null | undefined) => ({
    // Half the pool by default: the API keeps serving while the fleet migrates.
    concurrency: b?.concurrency ?? Math.max(1, Math.floor(config.dbPoolMax / 2)),
    maxFailures: b?.max_failures,
    limits: config.migrate,
  });
  /** The report at the end, or at once 202 with where to watch. */
  const answer = async (started: Promise<Started>, async: boolean | undefined, set: { status?: number | string; headers: Record<string, unknown> }) => {
    const { run, finished } = await started;
    if (!async) return finished;
    set.status = 202;
    set.headers.location = `/cc/runs/${run.id}`;
    return present(run);
  };
  return new Elysia({ prefix: "/cc", detail: { tags: ["control"], security: [{ admin: [] }], responses: errorResponses(401, 404, 409, 422, 503) } })
    .post(
      "/migrate",
      ({ body: b, set }) =>
        answer(ops.startRun(local, { ...shared(b), dryRun: b?.dry_run, schemas: b?.schemas, canary: b?.canary, wave: b?.wave }), b?.async, set),
      {
        body: body({
          dry_run: dryRun,
          schemas: t.Optional(t.Array(Schema, { maxItems: 10000, description: "only these tenants" })),
          canary: t.Optional(
            t.Union([t.Integer({ minimum: 1 }), t.Array(Schema, { minItems: 1, maxItems: 1000 })], {
              description: "migrated first, on their own: the first n tenants behind, or the ones named",
            }),
          ),
          wave,
          ...common,
        }),
        detail: {
          summary: "Migrate every tenant (or those listed) as a recorded run: canary, then waves; halts past max_failures; a locked tenant is retried, then reported blocked",
        },
      },
    )
    .get(
      "/runs",
      ({ query }) => recentRuns(sql, query.limit ?? 20, query.before),
      {
        query: t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: 100 })), before: t.Optional(t.Integer({ description: "runs older than this id" })) }),
        detail: { summary: "Recent runs, newest first, with their counts" },
      },
    )
    .get("/runs/:id", ({ params }) => getRun(sql, rowId(params.id, "run")), {
      params: IdParams,
      detail: { summary: "One run: status, counts so far (progress while running) and each tenant it touched" },
    })
    .post("/runs/:id/resume", ({ params, body: b, set }) => answer(ops.resumeRun(local, rowId(params.id, "run"), shared(b)), b?.async, set), {
      params: IdParams,
      body: body(common),
      detail: { summary: "Go on with a run that is not running (or whose owner died): its unstarted, failed and blocked tenants" },
    })
    .post(
      "/runs/:id/revert",
      ({ params, body: b, set }) => answer(ops.revertRun(local, rowId(params.id, "run"), { ...shared(b), dryRun: b?.dry_run, wave: b?.wave }), b?.async, set),
      {
        params: IdParams,
        body: body({ dry_run: dryRun, wave, ...common }),
        detail: { summary: "Run the down sections of exactly what a run applied, where it applied them, newest first (a new run)" },
      },
    )
    .post(
      "/runs/:id/cancel",
      async ({ params, set }) => {
        const run = await ops.cancelRun(rowId(params.id, "run"));
        if (run.status === "running") set.status = 202; // stops after the tenants in flight
        return present(run);
      },
      { params: IdParams, detail: { summary: "Stop a run after the tenants in flight (202), or cancel a stopped or orphaned one at once" } },
    );
};
