// One error type for expected failures, carrying the HTTP status and a stable code. The HTTP layer
// maps it (and driver errors, by SQLSTATE) to { error: { code, message, details? } }; the CLI prints its message.

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class NotFound extends AppError {
  constructor(what: string) {
    super(404, "not_found", `${what} not found`);
  }
}

export class Conflict extends AppError {
  constructor(message: string) {
    super(409, "conflict", message);
  }
}

export class Invalid extends AppError {
  constructor(message: string, details?: unknown) {
    super(422, "validation_failed", message, details);
  }
}

export class Forbidden extends AppError {
  constructor(message: string) {
    super(403, "forbidden", message);
  }
}

export class Unauthorized extends AppError {
  constructor(message = "a valid bearer token is required") {
    super(401, "unauthorized", message);
  }
}

/** The database cannot serve this now (down, full, or this tenant's work timed out): try again later. */
export class Unavailable extends AppError {
  constructor(code: string, message: string, readonly retryAfter = 1) {
    super(503, code, message);
  }
}

/** One rate limit as a response reports it: its policy (`limit` per `window` s), what is left, and the seconds until its window ends. */
export type RateUsage = { policy: string; limit: number; window: number; remaining: number; reset: number };

/** Over a rate limit: 429 with Retry-After and the RateLimit-Policy / RateLimit headers (src/http/errors.ts). */
export class RateLimited extends AppError {
  constructor(
    message: string,
    readonly usage: readonly RateUsage[],
    readonly retryAfter: number,
  ) {
    const over = usage.at(-1)!;
    super(429, "rate_limited", message, { policy: over.policy, limit: over.limit, window: over.window, retry_after: retryAfter });
  }
}

/** A tenant at one of its quotas: TENANT_MAX_USERS or TENANT_MAX_TASKS. */
export class QuotaExceeded extends AppError {
  constructor(what: "users" | "tasks", limit: number) {
    super(403, "quota_exceeded", `this tenant has reached its quota of ${limit} ${what}`, { quota: `TENANT_MAX_${what.toUpperCase()}`, limit });
  }
}

/** If-Match named no current version of the resource: it changed since the client read it. */
export class PreconditionFailed extends AppError {
  constructor(what: string) {
    super(412, "precondition_failed", `${what} has changed since the ETag in If-Match was read; fetch it again`);
  }
}
