// Strong ETags and the conditional request headers (RFC 9110 §8.8.3, §13.1). A row's ETag is its
// tenant, id and version (a counter every change moves on: src/db/versions.ts); a list page's is a
// hash of what the page shows. Both name the tenant, so a browser cache shared by two tenants'
// sessions never takes one's tag for the other's.
import { t } from "elysia";

type Versioned = { id: number; version: number };

export function rowTag(tenantId: number, row: Versioned): string {
  return `"${tenantId}-${row.id}-${row.version.toString(36)}"`;
}

/**
 * The page's rows (ids and versions, in order), its total and the origin its urls are built on,
 * hashed (wyhash, 64 bits). Hashed as numbers: building the same as text costs ~1.5 µs more a request.
 */
export function pageTag(tenantId: number, total: number, rows: Versioned[], base = ""): string {
  const values = new Float64Array(2 + 2 * rows.length);
  values[0] = tenantId;
  values[1] = total;
  let i = 2;
  for (const row of rows) {
    values[i++] = row.id;
    values[i++] = row.version;
  }
  return `"${Bun.hash(values, Bun.hash(base)).toString(36)}"`;
}

/** If-None-Match (weak comparison): true when the client's copy is current and a 304 will do. */
function notModified(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  for (const [, tag] of header.matchAll(/(?:W\/)?("[^"]*")/g)) if (tag === etag) return true;
  return false;
}

/**
 * Tags a GET's response with its ETag and `Cache-Control: no-cache` (a browser may keep it, but
 * revalidates each time); true when If-None-Match names that tag, and a 304 will do.
 */
export function unchanged(set: { headers: Record<string, unknown> }, ifNoneMatch: string | undefined, etag: string): boolean {
  set.headers.etag = etag;
  set.headers["cache-control"] = "no-cache";
  return notModified(ifNoneMatch, etag);
}

/**
 * If-Match (strong comparison) as the versions of this row it accepts: undefined
 * without the header or with `*` (any version); otherwise those of its tags that name this tenant's
 * row, none if no tag does. The write then checks the version in its own WHERE clause.
 */
export function acceptedVersions(header: string | undefined, tenantId: number, id: number): number[] | undefined {
  if (!header || header.trim() === "*") return undefined;
  const versions: number[] = [];
  for (const [, tenant, row, version] of header.matchAll(/(?<!W\/)"(\d+)-(\d+)-([0-9a-z]+)"/g))
    if (Number(tenant) === tenantId && Number(row) === id) versions.push(parseInt(version!, 36));
  return versions;
}

const tag = (description: string) => t.Optional(t.String({ description }));

export const IfNoneMatch = t.Object(
  { "if-none-match": tag("ETags of the copies the client holds (or *): 304 Not Modified, without a body, when one is current") },
  { additionalProperties: true },
);
export const IfMatch = t.Object(
  { "if-match": tag("The ETag the client read (or *): the change is made only if it is still current, else 412 Precondition Failed") },
  { additionalProperties: true },
);

/** OpenAPI for a 304 answer. */
export const notModifiedResponse = { $ref: "#/components/responses/304" };

/** OpenAPI for a response carrying an ETag. */
export const withETag = (description: string) => ({ description, headers: { ETag: { $ref: "#/components/headers/ETag" } } });
