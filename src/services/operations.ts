// Operators' writes: everything /cc and the CLI can change, each the service call wrapped in one
// audit event (audit.ts). Both call these, never the functions below them, for a write, so their
// trails cannot drift apart; a new verb is one more method here with one `audited` call (which
// leaves no event for a dry run).
import type { Migration } from "../migrator/files";
import { down, up, type Limits, type MigrationResult } from "../migrator/migrator";
import type { Source } from "../migrator/source";
import type { Admin, NewTenant } from "../models";
import { audited, type Operator } from "./audit";
import { createWithAdmin } from "./auth";
import { moveTenant, rebalance, type STRATEGIES } from "./placement";
import { cancelRun, resumeRun, revertRun, startRun, type Started } from "./runs";
import { seed } from "./seed";
import { createTenant, dropTenant, migrateOne, revertOne, setStatus } from "./tenants";

const moved = (r: MigrationResult) => ({ details: { from: r.from, to: r.to, files: r.applied } });
const ran = ({ run }: Started) => ({ details: { run: run.id } });

export function operations(op: Operator) {
  const { sql, cache } = op;
  return {
    /** A tenant at head, optionally with its first admin. */
    createTenant(local: readonly Migration[], tenant: Omit<NewTenant, "admin">, admin?: Admin) {
      return audited(
        op,
        { action: "tenant.create", schema: tenant.schema, details: { name: tenant.name, host: tenant.host ?? null, ...(admin && { admin: admin.email }) } },
        async () => (admin ? createWithAdmin(sql, local, tenant, admin) : { tenant: (await createTenant(sql, local, tenant))[0], user: undefined }),
        ({ tenant }) => ({ schema: tenant.schema, details: { revision: tenant.revision } }),
      );
    },

    dropTenant(schema: string) {
      return audited(op, { action: "tenant.drop", schema }, () => dropTenant(sql, schema, cache));
    },

    setStatus(schema: string, status: "active" | "suspended") {
      return audited(op, { action: status === "suspended" ? "tenant.suspend" : "tenant.resume", schema }, () => setStatus(sql, cache, schema, status));
    },

    migrateTenant(local: readonly Migration[], schema: string, options: { to?: number; dryRun?: boolean; limits?: Limits }) {
      const event = { action: "tenant.migrate", schema, details: { to: options.to ?? local.length }, dryRun: options.dryRun };
      return audited(op, event, () => migrateOne(sql, local, schema, options), moved);
    },

    revertTenant(local: readonly Migration[], schema: string, options: { steps?: number; dryRun?: boolean; limits?: Limits }) {
      const event = { action: "tenant.revert", schema, details: { steps: options.steps ?? 1 }, dryRun: options.dryRun };
      return audited(op, event, () => revertOne(sql, local, schema, options), moved);
    },

    /** A fleet migration run (every tenant, or the `schemas` listed): the event names the run, which records the rest. */
    startRun(local: readonly Migration[], options: Parameters<typeof startRun>[3]) {
      const { onProgress: _, limits: __, ...details } = options;
      return audited(op, { action: "fleet.migrate", details, dryRun: options.dryRun }, () => startRun(sql, local, op.actor, options), ran);
    },

    /** The down sections of what run `id` applied, where it applied them: a new run. */
    revertRun(local: readonly Migration[], id: number, options: Parameters<typeof revertRun>[4]) {
      return audited(op, { action: "run.revert", details: { reverts: id }, dryRun: options.dryRun }, () => revertRun(sql, local, id, op.actor, options), ran);
    },

    resumeRun(local: readonly Migration[], id: number, options: Parameters<typeof resumeRun>[4]) {
      return audited(op, { action: "run.resume", details: { run: id } }, () => resumeRun(sql, local, id, op.actor, options));
    },

    cancelRun(id: number) {
      return audited(op, { action: "run.cancel", details: { run: id } }, () => cancelRun(sql, id, op.actor), (run) => ({ details: { status: run.status } }));
    },

    /** The shared registry (public), up or down. */
    migrateRegistry(local: readonly Migration[], options: { to?: number; dryRun?: boolean; limits?: Limits }) {
      const event = { action: "registry.migrate", schema: "public", details: { to: options.to ?? local.length }, dryRun: options.dryRun };
      return audited(op, event, () => up(sql, "public", local, options), moved);
    },

    revertRegistry(local: readonly Migration[], options: { steps?: number; dryRun?: boolean; limits?: Limits }) {
      const event = { action: "registry.revert", schema: "public", details: { steps: options.steps ?? 1 }, dryRun: options.dryRun };
      return audited(op, event, () => down(sql, "public", local, options), moved);
    },

    /** Citus: a tenant's schema to another node, while it serves. */
    moveTenant(schema: string, node: string) {
      return audited(op, { action: "tenant.move", schema, details: { to: node } }, () => moveTenant(sql, schema, node), (r) => ({ details: { from: r.from, mode: r.mode, ms: r.ms } }));
    },

    /** Citus: start the background rebalancer. */
    rebalance(strategy?: (typeof STRATEGIES)[number]) {
      return audited(op, { action: "fleet.rebalance", details: { strategy: strategy ?? "by_disk_size" } }, () => rebalance(sql, strategy), (r) => ({ details: { job: r.job, started: r.started } }));
    },

    /** Demo tenants with users and tasks. */
    seed(source: Source, options: { tenants: number; users: number; tasks: number; ttlHours: number }) {
      const { ttlHours: _, ...details } = options;
      return audited(op, { action: "seed", details }, () => seed(sql, source, options), (logins) => ({ details: { schemas: logins.map((l) => l.schema) } }));
    },
  };
}

export type Operations = ReturnType<typeof operations>;
