// Every failure leaves as { error: { code, message, details? } }, mapped here and only here: our
// AppErrors (thrown by guards, services and routes alike), Elysia's own (validation, parse, not
// found), and the database's, by SQLSTATE. 401 always carries the one Bearer challenge; 503 a
// Retry-After; 429 a Retry-After and the RateLimit headers.
import { SQL } from "bun";
import { Elysia, ValidationError } from "elysia";
import { PoolTimeout } from "../db/lanes";
import { AppError, RateLimited, Unavailable } from "../errors";
import type { Logger } from "../log";
import { Blocked, InvalidTarget, MigrationError, UnsafeMigration } from "../migrator/errors";
import { rateLimitHeaders } from "./limits";

type Problem = { error: { code: string; message: string; details?: unknown } };

const CHALLENGE = 'Bearer realm="tenant-todo"';

function problem(code: string, message: string, details?: unknown): Problem {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** OpenAPI responses for these statuses, pointing at the shared error shape (see app.ts). */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/${s}` }]));
}

/** "Key (email)=(a@b.c) already exists." → "email" */
function keyColumn(detail: string | undefined): string | undefined {
  return detail ? /^Key \(([^)]+)\)=/.exec(detail)?.[1] : undefined;
}

const unavailable = new Unavailable("database_unavailable", "the database is unavailable, try again shortly");

/** A database error as the AppError it means; undefined for a bug (→ 500). */
function fromDatabase(error: SQL.PostgresError): AppError | undefined {
  const state = error.errno;
  // Errors Bun raises itself (no SQLSTATE) are about the connection: refused, closed, timed out.
  if (!state) return error.code.startsWith("ERR_POSTGRES_CONNECTION") || error.code.endsWith("_TIMEOUT") ? unavailable : undefined;
  const column = keyColumn(error.detail);
  const at = column ? [{ path: `/${column}` }] : undefined;
  if (state === "23505" || state === "42P06") return new AppError(409, "conflict", `${column ?? "that name"} is already taken`, at);
  if (state === "23503") return new AppError(422, "validation_failed", `${column ?? "a referenced record"} does not exist`, at);
  // Data exceptions (22: bad text, out-of-range numbers and dates…) and check/not-null violations: the input.
  if (state.startsWith("22") || state === "23502" || state === "23514") return new AppError(422, "validation_failed", "a value is out of range or malformed");
  // The schema or its tables are gone: the tenant was dropped (by another instance) since it was cached.
  if (state === "3F000" || state === "42P01") return new AppError(404, "tenant_not_found", "tenant not found");
  if (state === "55P03") return new Unavailable("lock_timeout", "this tenant's data is locked by other work; try again shortly");
  if (state === "57014") return new Unavailable("statement_timeout", "the query took too long; try again shortly");
  if (state === "40001" || state === "40P01") return new Unavailable("transaction_conflict", "a concurrent change conflicted with this one; try again");
  // Connection (08), resources and "too many clients" (53), shutdown and restart (57P0x).
  if (/^(08|53|57P0)/.test(state)) return unavailable;
  return undefined;
}

function fromValidation(error: ValidationError): AppError {
  const details = error.all.map((e) => {
    const allowed = "schema" in e ? (e.schema as { enum?: string[] }).enum : undefined;
    // The message names the rule, never the rejected value.
    return { path: "path" in e ? e.path : "", message: allowed ? `must be one of: ${allowed.join(", ")}` : e.message };
  });
  if (error.type === "headers") return new AppError(400, "invalid_header", "a request header is malformed", details);
  if (error.type === "params") return new AppError(404, "not_found", "no such resource");
  return new AppError(422, "validation_failed", `the request ${error.type} is invalid`, details);
}

/** Any error as the AppError it means, or undefined for a bug. */
function toAppError(code: string | number, error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  // Elysia wraps what a parse hook throws (inputs.ts refuses bodies there) in a ParseError.
  if (code === "PARSE" && (error as Error).cause instanceof AppError) return (error as Error).cause as AppError;
  if (error instanceof InvalidTarget) return new AppError(422, "validation_failed", error.message, [{ path: "/to" }]);
  if (error instanceof Blocked) return new Unavailable("migration_blocked", error.message, 5);
  if (error instanceof UnsafeMigration) return new AppError(409, "unsafe_migration", error.message, error.where);
  if (error instanceof MigrationError) return new AppError(409, "migration_failed", error.message, error.where);
  if (error instanceof ValidationError) return fromValidation(error);
  if (error instanceof SQL.PostgresError) return fromDatabase(error);
  if (error instanceof PoolTimeout) return new Unavailable("pool_timeout", `${error.message}; try again shortly`);
  if (code === "PARSE") return new AppError(400, "malformed_body", "the request body is not valid JSON");
  if (code === "NOT_FOUND") return new AppError(404, "not_found", "no such route");
  return undefined;
}

export const errors = (log: Logger, bodyLimit: number) =>
  new Elysia({ name: "errors" })
    // Refused before the body is read; Bun's maxRequestBodySize stops bodies without a length.
    .onRequest(({ request }) => {
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > bodyLimit) throw new AppError(413, "payload_too_large", `the request body exceeds ${bodyLimit} bytes`);
    })
    .onError({ as: "global" }, ({ code, error, set, request }) => {
      const known = toAppError(code, error);
      if (!known) log.error("request failed", { method: request.method, url: new URL(request.url).pathname, error: String(error) });
      const { status, code: name, message, details } = known ?? new AppError(500, "internal", "internal error");
      if (status === 401) set.headers["www-authenticate"] = CHALLENGE;
      if (known instanceof Unavailable) set.headers["retry-after"] = String(known.retryAfter);
      if (known instanceof RateLimited) Object.assign(set.headers, { "retry-after": String(known.retryAfter), ...rateLimitHeaders(known.usage) });
      set.status = status;
      return problem(name, message, details);
    });
