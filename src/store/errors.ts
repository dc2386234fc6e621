/** The store cannot take writes (read-only file, disk full, locked, closed): answer 503, keep nothing. */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** The database was written by a newer notion-rules than this one. */
export class StoreVersionError extends Error {
  override name = 'StoreVersionError';
}
