// Idempotency-Key on POST /tasks and POST /users (draft-ietf-httpapi-idempotency-key-header): the
// same key with the same request within 24 hours gets the first response again (status, Location,
// ETag, body) and creates nothing; the same key with another request is a 422; while the first
// request is still in flight, a 409. Keys are per tenant and per user.
import { t } from "elysia";
import type { Deps } from "../app";
import type { Sql } from "../db/client";
import { claimKey, pruneKeys, storeResponse, storedResponse } from "../db/idempotency";
import { sha256 } from "../digest";
import { AppError } from "../errors";
import { verifyPassword } from "../services/passwords";

/** What a create answers, as sent and as stored for replays. */
export type Reply<B> = { status: number; location?: string; etag: string; body: B };

type Keyed = {
  user: number;
  key: string;
  /** SHA-256 of the method, path and body (see fingerprint). */
  fingerprint: Buffer;
  /** A password in the body stays out of the fingerprint; a replay checks it against its argon2 hash. */
  password?: { plain: string; hash: string };
};

// Expired keys deleted by each new one: more than one, so the table shrinks back after a burst.
const PRUNE = 16;

export const IdempotencyKey = t.Object(
  {
    "idempotency-key": t.Optional(
      t.String({
        maxLength: 257,
        description: 'A unique value per intended create (e.g. a UUID; a quoted string, "…", as the draft writes it, or bare): a retry with the same key and body within 24 hours gets the first response again',
      }),
    ),
  },
  { additionalProperties: true },
);

/** The header's key: a Structured Field string ("…") or, leniently, a bare value; 1–255 printable ASCII characters. */
export function parseKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  const quoted = /^"((?:[^"\\]|\\["\\])*)"$/.exec(value);
  const key = quoted ? quoted[1]!.replace(/\\(["\\])/g, "$1") : value.startsWith('"') ? "" : value;
  if (!/^[\x20-\x7e]{1,255}$/.test(key))
    throw new AppError(400, "invalid_header", "Idempotency-Key must be 1 to 255 printable ASCII characters", [{ path: "/idempotency-key" }]);
  return key;
}

/** JSON with object keys sorted, so the same body written in another key order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function fingerprint(method: string, path: string, body: unknown): Buffer {
  return sha256(`${method} ${path}\n${canonical(body)}`);
}

/**
 * Runs `create` once per key: in one transaction that claims the key, finds no stored response,
 * prunes a few expired keys, creates, and stores the response. A crash or an error before the
 * commit leaves nothing behind, so the client's retry simply runs again.
 */
export async function idempotent<B>({ db }: Pick<Deps, "db">, schema: string, keyed: Keyed, create: (tx: Sql) => Promise<Reply<B>>): Promise<Reply<B>> {
  const { user, key } = keyed;
  const outcome = await db.run(schema, (sql) =>
    sql.begin(async (tx) => {
      if (!(await claimKey(tx, schema, user, key)))
        throw new AppError(409, "idempotency_key_in_use", "a request with this Idempotency-Key is still being processed; retry once it has finished");
      const stored = await storedResponse(tx, schema, user, key);
      if (stored) return { stored };
      await pruneKeys(tx, schema, PRUNE);
      const reply = await create(tx);
      const body = JSON.stringify(reply.body);
      await storeResponse(tx, schema, user, key, {
        fingerprint: keyed.fingerprint,
        secret: keyed.password?.hash ?? null,
        status: reply.status,
        location: reply.location ?? null,
        etag: reply.etag,
        body,
      });
      return { reply };
    }),
  );
  if (outcome.reply) return outcome.reply;
  const { stored } = outcome;
  const same =
    stored.fingerprint.equals(keyed.fingerprint) &&
    (stored.secret === null || (keyed.password !== undefined && (await verifyPassword(keyed.password.plain, stored.secret))));
  if (!same) throw new AppError(422, "idempotency_key_reused", "this Idempotency-Key was already used for a different request", [{ path: "/idempotency-key" }]);
  // The stored text is the first response's body, serialised from a B.
  return { status: stored.status, location: stored.location ?? undefined, etag: stored.etag!, body: JSON.parse(stored.body) as B };
}

/** Sends a reply: status, Location and ETag, and the body for Elysia to serialise. */
export function send<B>(set: { status?: number | string; headers: Record<string, unknown> }, reply: Reply<B>): B {
  set.status = reply.status;
  if (reply.location) set.headers.location = reply.location;
  set.headers.etag = reply.etag;
  return reply.body;
}
