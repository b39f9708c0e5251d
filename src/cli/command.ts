// A CLI verb, declared once: its name, what it takes, its help line and what it does. The parser,
// the usage text and the dispatch are all read from these declarations (index.ts).
import { parseArgs } from "node:util";
import type { Config } from "../config";
import type { Database } from "../db/client";
import type { Source } from "../migrator/source";
import type { AuthCache } from "../services/cache";
import type { Operations } from "../services/operations";

type Option = { type: "string" | "boolean"; value?: string; help: string };

export type Context<O extends Record<string, Option> = Record<string, Option>> = {
  values: { [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string };
  positionals: string[];
  config: Config;
  source: Source;
  /** Absent for verbs declared with `database: false`. */
  db: Database;
  store: { db: Database; cache: AuthCache };
  /** Every write goes through these: each leaves one audit event, as `cli:<os user>`. Unusable without `db`. */
  ops: Operations;
  print: (text: string) => void;
};

export type Command<O extends Record<string, Option> = Record<string, Option>> = {
  /** "migrate up", "tenant list", "seed" */
  name: string;
  /** Positional arguments, for the usage line: "<name>". */
  args?: string;
  summary: string;
  options: O;
  /** false: runs without opening the database (`migrate new`, `healthcheck`). */
  database?: boolean;
  run(context: Context<O>): Promise<number> | number;
};

export function command<const O extends Record<string, Option>>(c: Command<O>): Command {
  return c as unknown as Command;
}

/** Wrong words on the command line: exit 2 with the usage. */
export class UsageError extends Error {}

export const json = { type: "boolean", help: "print JSON for scripts" } as const;

export function count(value: string | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} takes a whole number, got "${value}"`);
  return n;
}

/** A comma-separated list: "a,b, c" → ["a", "b", "c"]. */
export function list(value: string, name = "list"): string[] {
  const items = value.split(",").map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new UsageError(`--${name} takes a comma-separated list`);
  return items;
}

/** `--json` prints the value for scripts; otherwise the text for people. */
export function output(context: { values: { json?: unknown }; print: (text: string) => void }, value: unknown, text: string) {
  context.print(context.values.json ? JSON.stringify(value, null, 2) : text);
}

export function usageLine(c: Command): string {
  const options = Object.entries(c.options).map(([name, o]) => `[--${name}${o.type === "string" ? ` ${o.value ?? "<value>"}` : ""}]`);
  return [c.name, c.args, ...options].filter(Boolean).join(" ");
}

/** The verb's own flags only: anything else is a UsageError. */
export function parse(c: Command, argv: string[]) {
  const options = Object.fromEntries(Object.entries(c.options).map(([name, o]) => [name, { type: o.type }]));
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
