/**
 * Errors with stable codes. Codes never change between versions; messages may. Where
 * abstract-level has a code for the situation we use it, so Level-ecosystem callers can branch on
 * one set of codes. Every code is documented in docs/errors.md.
 */
export const ErrorCode = {
  /** Stored bytes failed a checksum or a structural check; the error names the file and offset. */
  CORRUPTION: 'LEVEL_CORRUPTION',
  /** Another process (or another open in this process) holds the database's lock. */
  LOCKED: 'LEVEL_LOCKED',
  /** The database or engine is not open (never opened, closing, or closed). */
  NOT_OPEN: 'LEVEL_DATABASE_NOT_OPEN',
  /** A snapshot or iterator was used after it was released or closed. */
  SNAPSHOT_NOT_OPEN: 'LEVEL_SNAPSHOT_NOT_OPEN',
  /** A write was attempted on a read-only view. */
  READONLY: 'LEVEL_READONLY',
  /** The engine does not offer what was asked of it. */
  NOT_SUPPORTED: 'LEVEL_NOT_SUPPORTED',
  /** A key is longer than the format allows (1 KiB). Thrown as a RangeError. */
  KEY_TOO_LARGE: 'STRATA_KEY_TOO_LARGE',
  /** A value is longer than the format allows (16 MiB). Thrown as a RangeError. */
  VALUE_TOO_LARGE: 'STRATA_VALUE_TOO_LARGE',
  /** An open option has a value it cannot take (a `cacheSize` that is not a non-negative integer). Thrown as a RangeError. */
  INVALID_OPTION: 'STRATA_INVALID_OPTION',
  /** The storage layer failed to write, sync or read (disk full, I/O error); nothing committed is lost. */
  IO_ERROR: 'STRATA_IO_ERROR',
  /** The log cannot address a write: its segment numbers are used up, or one append passes 4 GiB. */
  LOG_FULL: 'STRATA_LOG_FULL',
  /** The folder holds files of a newer or unknown format version. */
  UNSUPPORTED_FORMAT: 'STRATA_UNSUPPORTED_FORMAT',
  /** The folder exists but is not a Strata database (and createIfMissing does not apply). */
  NOT_A_DATABASE: 'STRATA_NOT_A_DATABASE',
  /** The database does not exist and `createIfMissing` is false. */
  NOT_FOUND: 'STRATA_DATABASE_NOT_FOUND',
  /** The database exists and `errorIfExists` is true. */
  EXISTS: 'STRATA_DATABASE_EXISTS',
  /** The folder holds a database of another engine than the one asked for; nothing is created beside it. */
  ENGINE_MISMATCH: 'STRATA_ENGINE_MISMATCH',
  /** A named snapshot with that name already exists. */
  SNAPSHOT_EXISTS: 'STRATA_SNAPSHOT_EXISTS',
  /** No named snapshot has that name. */
  SNAPSHOT_NOT_FOUND: 'STRATA_SNAPSHOT_NOT_FOUND',
  /** The folder holds a clone that a crash or a failure cut short (its `CLONING` file is there). */
  CLONE_INCOMPLETE: 'STRATA_CLONE_INCOMPLETE',
} as const

/** One of the stable error codes in {@link ErrorCode}. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode]

/** An expected failure, carrying a stable {@link ErrorCode}. */
export class StrataError extends Error {
  readonly code: ErrorCodeValue

  constructor(code: ErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StrataError'
    this.code = code
  }
}

/** A corrupt-bytes error that names where the bad bytes are. */
export function corruption(file: string, offset: number, what: string): StrataError {
  return new StrataError(ErrorCode.CORRUPTION, `${what} in ${file} at offset ${offset}`)
}

/** A caller's mistake with an out-of-range size: a RangeError that also carries a stable code. */
export function rangeError(code: ErrorCodeValue, message: string): RangeError & { code: ErrorCodeValue } {
  const error = new RangeError(message) as RangeError & { code: ErrorCodeValue }
  error.code = code
  return error
}

/** Throws when an internal invariant is broken: a bug in Strata, never the caller's fault. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`strata: invariant broken: ${message}`)
}
