// Fleet runs on the command line: `migrate runs | run | resume | cancel`, and how `migrate up --all`
// and `migrate down --run` follow the run they start. Same service functions as /cc.
import { stopLocal } from "../services/run-driver";
import { getRun, present, recentRuns, type RunReport, type Settled, type Started } from "../services/runs";
import { UsageError, command, count, json, output, type Context } from "./command";

/** The options every run-starting verb takes. */
export const staging = {
  concurrency: { type: "string", value: "N", help: "tenants at once (default: DB_POOL_MAX)" },
  "max-failures": { type: "string", value: "N", help: "halt once more than N tenants failed (default: no limit; 0 with a canary)" },
} as const;

/** The run settings those flags give (and --wave, where a verb has it), with the configured limits. */
export function runSettings(values: { concurrency?: unknown; "max-failures"?: unknown; wave?: unknown; json?: unknown }, config: Context["config"]) {
  const flag = (name: "concurrency" | "max-failures" | "wave") => count(values[name] as string | undefined, name);
  return {
    wave: flag("wave"),
    concurrency: flag("concurrency") ?? config.dbPoolMax,
    maxFailures: flag("max-failures"),
    limits: config.migrate,
    onProgress: values.json ? undefined : progress,
  };
}

/** One line that rewrites itself, on a terminal only. */
export function progress(report: Settled, done: number, total: number) {
  if (!process.stderr.isTTY) return;
  const mark = report.outcome === "blocked" ? "⧗" : report.error ? "✗" : "✓";
  process.stderr.write(`\r\x1b[K[${done}/${total}] ${mark} ${report.schema}${done === total ? "\n" : ""}`);
}

const MARKS: Record<string, string> = { failed: "✗", blocked: "⧗", refused: "!" };

function describe(r: RunReport): string {
  const counts =
    r.kind === "up"
      ? `${r.migrated} migrated, ${r.unchanged} unchanged, ${r.failed} failed, ${r.blocked} blocked`
      : `${r.reverted} reverted, ${r.unchanged} unchanged, ${r.refused} refused, ${r.failed} failed, ${r.blocked} blocked`;
  const lines = [`${r.dry_run ? "dry run: " : ""}run ${r.run} (${r.kind}) ${r.status}: ${counts} of ${r.total} tenants in ${r.ms} ms (head ${r.head})`];
  for (const t of r.tenants) if (MARKS[t.outcome]) lines.push(`  ${MARKS[t.outcome]} ${t.schema}: ${t.outcome}${t.attempts && t.attempts > 1 ? ` after ${t.attempts} tries` : ""}: ${t.error}`);
  if (r.dry_run) for (const t of r.tenants) if (t.applied.length) lines.push(`  ${t.schema}: ${t.from} → ${t.to}, would ${r.kind === "up" ? "apply" : "revert"} ${t.applied.join(", ")}`);
  if (r.message) lines.push(r.message);
  if (r.status !== "done" || r.failed || r.blocked) lines.push(`resume it with: tenant-todo migrate resume ${r.run}`);
  return lines.join("\n");
}

/** 0 done; 1 stopped early, or a tenant failed or was refused; 75 (EX_TEMPFAIL) when only locks stood in the way: try again. */
export function exitCode(r: RunReport): number {
  if (r.status !== "done" || r.failed || r.refused) return 1;
  return r.blocked ? 75 : 0;
}

/** Waits for a run started here; the first Ctrl-C halts it after the tenants in flight (resumable), a second one kills. */
export async function follow(context: { values: { json?: unknown }; print: (text: string) => void }, { run, finished }: Started): Promise<number> {
  const interrupt = () => stopLocal(run.id, "halted", "interrupted from the terminal (SIGINT)");
  process.once("SIGINT", interrupt);
  try {
    const report = await finished;
    output(context, report, describe(report));
    return exitCode(report);
  } finally {
    process.off("SIGINT", interrupt);
  }
}

function id(context: Pick<Context, "positionals">): number {
  const [value] = context.positionals;
  if (!value) throw new UsageError("which run? give its id");
  return count(value, "run")!;
}

type Summary = ReturnType<typeof present>;
const when = (d: Date | null) => (d ? d.toISOString().replace("T", " ").slice(0, 19) : "-");
const tally = (r: Summary) =>
  Object.entries(r.counts)
    .filter(([k, n]) => n > 0 && k !== "total" && k !== "planned")
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");

export const runCommands = [
  command({
    name: "migrate runs",
    summary: "recent fleet runs, newest first, with their counts",
    options: { limit: { type: "string", value: "N", help: "how many (default 20)" }, json },
    async run(context) {
      const runs = await recentRuns(context.db.sql, count(context.values.limit, "limit", 20));
      const line = (r: Summary) =>
        `#${String(r.id).padEnd(5)} ${r.kind.padEnd(7)}${r.reverts ? `(of #${r.reverts}) ` : ""}${r.status.padEnd(12)} ${when(r.started_at)}  ${r.actor.padEnd(22)} ${r.counts.total} tenants: ${tally(r) || "nothing to do"}`;
      output(context, runs, runs.map(line).join("\n") || "no runs yet");
      return 0;
    },
  }),
  command({
    name: "migrate run",
    args: "<id>",
    summary: "one run: its status, counts (progress while running) and each tenant it touched",
    options: { json },
    async run(context) {
      const r = await getRun(context.db.sql, id(context));
      const text = [
        `run ${r.id} (${r.kind}${r.reverts ? ` of run ${r.reverts}` : ""}${r.dry_run ? ", dry run" : ""}) ${r.status}, by ${r.actor}, started ${when(r.started_at)}, finished ${when(r.finished_at)}`,
        `  target ${r.target ?? "-"}; ${r.counts.total} tenants: ${tally(r) || "nothing to do"}`,
        ...(r.message ? [`  ${r.message}`] : []),
        ...r.tenants.map(
          (t) => `  ${MARKS[t.outcome] ?? "✓"} ${t.schema.padEnd(24)} ${t.outcome.padEnd(9)} ${t.from} → ${t.to}  ${t.applied.join(", ")}${t.error ? `  ${t.error}` : ""}`,
        ),
      ].join("\n");
      output(context, r, text);
      return 0;
    },
  }),
  command({
    name: "migrate resume",
    args: "<id>",
    summary: "go on with a run that is not running (or whose owner died): its unstarted, failed and blocked tenants",
    options: { ...staging, json },
    async run(context) {
      const { values, source, config } = context;
      const { wave: _, ...settings } = runSettings(values, config);
      const started = await context.ops.resumeRun(source.tenant, id(context), settings);
      return follow(context, started);
    },
  }),
  command({
    name: "migrate cancel",
    args: "<id>",
    summary: "stop a run after the tenants in flight (wherever it runs), or cancel a stopped one",
    options: { json },
    async run(context) {
      const run = present(await context.ops.cancelRun(id(context)));
      output(context, run, run.status === "running" ? `run ${run.id}: cancel requested; it stops after the tenants in flight` : `run ${run.id} is ${run.status}`);
      return 0;
    },
  }),
];
