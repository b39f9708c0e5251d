// Every failure leaves as { error: { code, message, details? } }, mapped here and only here:
// our AppErrors, Elysia's own (validation, parse, not found) and driver errors by SQLSTATE.
import { Elysia, ValidationError } from "elysia";
import postgres from "postgres";
import { AppError } from "../errors";
import type { Logger } from "../log";
import { MigrationError } from "../migrator/errors";

export type Problem = { error: { code: string; message: string; details?: unknown } };

export function problem(code: string, message: string, details?: unknown): Problem {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** OpenAPI responses for these statuses, pointing at the shared error shape (see app.ts). */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/${s}` }]));
}

const BAD_INPUT = new Set(["22P02", "22001", "22003", "22007", "22008", "22023", "23502", "23514", "2201X", "2201W"]);
const UNAVAILABLE = /^(08|53|57P0)/;

/** "Key (email)=(a@b.c) already exists." → "email" */
function keyColumn(detail: string | undefined): string | undefined {
  return detail ? /^Key \(([^)]+)\)=/.exec(detail)?.[1] : undefined;
}

function fromPostgres(error: postgres.PostgresError): [number, Problem] {
  const column = keyColumn(error.detail);
  if (error.code === "23505" || error.code === "42P06")
    return [409, problem("conflict", `${column ?? "that name"} is already taken`, column ? [{ path: `/${column}` }] : undefined)];
  if (error.code === "23503")
    return [422, problem("validation_failed", `${column ?? "a referenced record"} does not exist`, column ? [{ path: `/${column}` }] : undefined)];
  if (BAD_INPUT.has(error.code)) return [422, problem("validation_failed", "a value is out of range or malformed")];
  if (error.code === "3F000") return [404, problem("not_found", "tenant not found")];
  if (UNAVAILABLE.test(error.code)) return [503, problem("unavailable", "the database is unavailable, try again")];
  return [500, problem("internal", "internal error")];
}

function fromValidation(error: ValidationError): [number, Problem] {
  const details = error.all.map((e) => {
    const allowed = "schema" in e ? (e.schema as { enum?: string[] }).enum : undefined;
    return { path: "path" in e ? e.path : "", message: allowed ? `must be one of: ${allowed.join(", ")}` : e.message };
  });
  if (error.type === "headers") return [400, problem("invalid_header", "a request header is malformed", details)];
  if (error.type === "params") return [404, problem("not_found", "no such resource")];
  return [422, problem("validation_failed", `the request ${error.type} is invalid`, details)];
}

export function toProblem(code: string | number, error: unknown): [number, Problem] {
  if (error instanceof AppError) return [error.status, problem(error.code, error.message, error.details)];
  if (error instanceof MigrationError) return [409, problem("migration_failed", error.message, error.where)];
  if (error instanceof ValidationError) return fromValidation(error);
  if (error instanceof postgres.PostgresError) return fromPostgres(error);
  if (code === "PARSE") return [400, problem("malformed_body", "the request body is not valid JSON")];
  if (code === "NOT_FOUND") return [404, problem("not_found", "no such route")];
  return [500, problem("internal", "internal error")];
}

export const errors = (log: Logger, bodyLimit: number) =>
  new Elysia({ name: "errors" })
    .onRequest(({ request, set }) => {
      // Refused before the body is read; Bun's maxRequestBodySize stops bodies without a length.
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > bodyLimit) {
        set.status = 413;
        return problem("payload_too_large", `the request body exceeds ${bodyLimit} bytes`);
      }
    })
    .onError({ as: "global" }, ({ code, error, set, request }) => {
      const [status, body] = toProblem(code, error);
      if (status >= 500) log.error("request failed", { method: request.method, url: new URL(request.url).pathname, error: String(error) });
      if (status === 401) set.headers["www-authenticate"] = 'Bearer realm="tenant-todo"';
      set.status = status;
      return body;
    });
