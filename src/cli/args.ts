// What every command gets: parsed options, configuration, the migration files, a printer.
import { parseArgs } from "node:util";
import type { Config } from "../config";
import type { Source } from "../migrator/source";

export const OPTIONS = {
  tenant: { type: "string" },
  all: { type: "boolean" },
  public: { type: "boolean" },
  to: { type: "string" },
  steps: { type: "string" },
  "dry-run": { type: "boolean" },
  concurrency: { type: "string" },
  json: { type: "boolean" },
  scope: { type: "string" },
  schema: { type: "string" },
  host: { type: "string" },
  yes: { type: "boolean" },
  tenants: { type: "string" },
  tasks: { type: "string" },
  users: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export type Args = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
export type Context = { args: Args; config: Config; source: Source; print: (text: string) => void };

/** Wrong words on the command line: exit 2 with the usage. */
export class UsageError extends Error {}

export function count(value: string | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} takes a whole number, got "${value}"`);
  return n;
}

/** `--json` prints the value for scripts; otherwise the text for people. */
export function output({ args, print }: Context, value: unknown, text: string) {
  print(args.values.json ? JSON.stringify(value, null, 2) : text);
}
