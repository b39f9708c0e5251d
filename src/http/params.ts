// Shared query and path models. Ranges are checked here rather than in the schema: Elysia reports
// range failures of coerced query/path numbers without the field's name.
import { t } from "elysia";
import { Invalid, NotFound } from "../errors";
import { isHost } from "../db/names";
import { oneOf } from "../models";

export const IdParams = t.Object({ id: t.Integer({ description: "the resource's id" }) });

export const PageQuery = {
  limit: t.Optional(t.Integer({ description: "page size, 1 to 100 (default 20)" })),
  offset: t.Optional(t.Integer({ description: "rows to skip (default 0)" })),
};

const MAX_ID = 2 ** 31 - 1;

/** Ids are positive int4; anything else names no row. */
export function rowId(id: number, what: string): number {
  if (id < 1 || id > MAX_ID) throw new NotFound(`${what} ${id}`);
  return id;
}

export function page(query: { limit?: number; offset?: number }) {
  const limit = query.limit ?? 20;
  const offset = query.offset ?? 0;
  if (limit < 1 || limit > 100) throw new Invalid("limit must be between 1 and 100", [{ path: "/limit" }]);
  if (offset < 0 || offset > 1_000_000) throw new Invalid("offset must be between 0 and 1000000", [{ path: "/offset" }]);
  return { limit, offset };
}

/** `-created_at` → { sort: "created_at", desc: true } */
export function sorting<S extends string>(value: string | undefined, fallback: S): { sort: S; desc: boolean } {
  if (!value) return { sort: fallback, desc: false };
  return value.startsWith("-") ? { sort: value.slice(1) as S, desc: true } : { sort: value as S, desc: false };
}

export function sortParam(columns: readonly string[]) {
  const values = [...columns, ...columns.map((c) => `-${c}`)] as [string, ...string[]];
  return t.Optional(oneOf(values, `one of ${columns.join(", ")}; prefix - for descending`));
}

/** Where the path begins in an absolute URL ("http://host:port/path?query" → the index of "/path"). */
export function pathStart(url: string): number {
  return url.indexOf("/", url.indexOf("//") + 2);
}

/** The scheme and host clients reached us by, honouring a proxy's X-Forwarded-Proto/Host. */
export function origin(request: Request): string {
  const own = request.url.slice(0, pathStart(request.url));
  const proto = request.headers.get("x-forwarded-proto")?.split(",")[0]!.trim().toLowerCase();
  const host = request.headers.get("x-forwarded-host")?.split(",")[0]!.trim();
  if (!proto && !host) return own;
  const scheme = proto === "https" || proto === "http" ? proto : own.slice(0, own.indexOf(":"));
  return `${scheme}://${host && isHost(host) ? host : own.slice(own.indexOf("//") + 2)}`;
}

/** X-Total-Count and an RFC 8288 Link header with first/prev/next/last, absolute (from `base`, see origin). */
export function pageHeaders(url: string, base: string, total: number, limit: number, offset: number): Record<string, string> {
  const start = pathStart(url);
  const q = url.indexOf("?", start);
  let kept = "";
  if (q >= 0) {
    const params = new URLSearchParams(url.slice(q + 1));
    params.delete("limit");
    params.delete("offset");
    if (params.size) kept = `${params}&`;
  }
  const prefix = `<${base}${q < 0 ? url.slice(start) : url.slice(start, q)}?${kept}limit=${limit}&offset=`;
  const links = [`${prefix}0>; rel="first"`];
  if (offset > 0) links.push(`${prefix}${Math.max(0, offset - limit)}>; rel="prev"`);
  if (offset + limit < total) links.push(`${prefix}${offset + limit}>; rel="next"`);
  links.push(`${prefix}${Math.max(0, Math.floor((total - 1) / limit) * limit)}>; rel="last"`);
  return { "x-total-count": String(total), link: links.join(", ") };
}
