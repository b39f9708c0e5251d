// Who did it, as recorded in migration runs (and any other trail of operator actions): the same
// format everywhere, never the secret itself.
import { userInfo } from "node:os";
import { sha256 } from "../digest";

/** `cli:<os user>` for the command line; `admin-token:<first 8 hex of SHA-256(ADMIN_TOKEN)>` for /cc. */
export function actorOf(via: "cli" | { adminToken: string }): string {
  if (via !== "cli") return `admin-token:${sha256(via.adminToken, "hex").slice(0, 8)}`;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? "unknown"}`; // a uid with no passwd entry (some containers)
  }
}
