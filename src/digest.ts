// SHA-256, the one digest here: token hashes, constant-time secret comparison, migration checksums.
export function sha256(text: string): Buffer;
export function sha256(text: string, encoding: "hex"): string;
export function sha256(text: string, encoding?: "hex"): Buffer | string {
  const hasher = new Bun.CryptoHasher("sha256").update(text);
  return encoding ? hasher.digest(encoding) : hasher.digest();
}
