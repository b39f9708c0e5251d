// Secrets: argon2id through Bun.password (OWASP's minimum parameters, 19 MiB, 2 passes), and a
// constant-time comparison for configured tokens.
import { timingSafeEqual } from "node:crypto";
import { sha256 } from "../digest";
import { Invalid } from "../errors";

/** Compares SHA-256 digests, so neither the content nor the length of the secret leaks through timing. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

export const MIN_PASSWORD = 8;
const PARAMS = { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 } as const;

export async function hashPassword(password: string): Promise<string> {
  if (password.length < MIN_PASSWORD) throw new Invalid(`password must be at least ${MIN_PASSWORD} characters`, [{ path: "/password" }]);
  return Bun.password.hash(password, PARAMS);
}

// Checked when the account is unknown, so a miss takes as long as a wrong password.
let dummy: Promise<string> | undefined;

export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  const ok = await Bun.password.verify(password, hash ?? (await (dummy ??= Bun.password.hash("not a password", PARAMS))));
  return ok && hash !== undefined;
}
