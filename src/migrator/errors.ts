/** Every migrator failure, wrapped once, naming the file and the schema it concerns. */
export class MigrationError extends Error {
  override name = "MigrationError";
  constructor(
    message: string,
    readonly where: { file?: string; schema?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A revision that does not exist, or one a schema is already past: the caller asked for the impossible. */
export class InvalidTarget extends MigrationError {
  override name = "InvalidTarget";
}

/** A file `migrate up` will not run on an existing schema: it would block the tenant's writes (safety.ts). */
export class UnsafeMigration extends MigrationError {
  override name = "UnsafeMigration";
}

/** A lock the migration needed was not granted within MIGRATE_LOCK_TIMEOUT_MS (SQLSTATE 55P03): try again later. */
export class Blocked extends MigrationError {
  override name = "Blocked";
}
