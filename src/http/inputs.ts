// What input must be before validation sees it. JSON bodies: nested at most MAX_DEPTH deep (a deep
// document is refused by one linear scan of its text, before the parser or the validator, which
// would otherwise spend seconds on it), and no string holding what PostgreSQL cannot store (NUL, or
// half of a surrogate pair). Query strings: no NUL either. Each refusal names the field.
import { Elysia } from "elysia";
import { AppError, Invalid } from "../errors";

const MAX_DEPTH = 32;

/** True when brackets outside strings nest deeper than `max`. */
export function nestedDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}

/** The JSON pointer of the first string PostgreSQL cannot store (NUL, lone surrogate), if any. */
export function unstorable(value: unknown, path = ""): string | undefined {
  if (typeof value === "string") return value.includes("\0") || !value.isWellFormed() ? path || "/" : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorable(value[i], `${path}/${i}`);
      if (found) return found;
    }
  } else if (value && typeof value === "object")
    for (const [key, item] of Object.entries(value)) {
      const found = unstorable(item, `${path}/${key}`) ?? unstorable(key, `${path}/${key}`);
      if (found) return found;
    }
  return undefined;
}

function refuse(path: string): never {
  throw new Invalid("a string holds a NUL character or half of a surrogate pair, which cannot be stored", [{ path, message: "must not contain NUL or lone surrogates" }]);
}

export const inputs = new Elysia({ name: "inputs" })
  .onRequest(({ request }) => {
    // %00 in the query string (the only place a NUL can come from outside a body).
    const q = request.url.indexOf("?");
    if (q < 0 || !/%00/i.test(request.url)) return;
    for (const [key, value] of new URLSearchParams(request.url.slice(q + 1))) if (`${key}${value}`.includes("\0")) refuse(`/${key}`);
  })
  .onParse({ as: "global" }, async ({ request, contentType }) => {
    // Routes read bodies as JSON whatever their type says (Todo-Backend clients send none).
    if (contentType ? contentType !== "application/json" : !request.body) return;
    const text = await request.text();
    if (nestedDeeper(text, MAX_DEPTH)) throw new AppError(400, "body_too_deep", `the request body nests deeper than ${MAX_DEPTH} levels`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new AppError(400, "malformed_body", "the request body is not valid JSON");
    }
    // Only an escape (\u…) can bring either character in: most bodies skip the walk.
    if (text.includes("\\u")) {
      const path = unstorable(value);
      if (path) refuse(path);
    }
    return value;
  });
