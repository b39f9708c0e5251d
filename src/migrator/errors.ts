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
