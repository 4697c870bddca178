import { ErrorCode, type ErrorCodeValue } from '@strata/storage'
import { CommanderError } from 'commander'

/**
 * Codes only the `strata` command gives (docs/errors.md §The strata command); everything else it
 * reports carries the library's {@link ErrorCode}. Codes never change; messages may.
 */
export const CliErrorCode = {
  /** A missing or malformed argument or option, conflicting options, or an unknown command. */
  USAGE: 'STRATA_USAGE',
  /** `get`: the database holds no entry with that key. */
  KEY_NOT_FOUND: 'STRATA_KEY_NOT_FOUND',
  /** `demo`: the folder holds a database the demo did not make, which it would change. */
  NOT_A_DEMO_DATABASE: 'STRATA_NOT_A_DEMO_DATABASE',
  /** `bench`: the benchmark suite is not installed; it runs in a clone of the Strata repository. */
  BENCH_UNAVAILABLE: 'STRATA_BENCH_UNAVAILABLE',
  /** Anything unexpected: a bug in Strata. */
  INTERNAL: 'STRATA_INTERNAL_ERROR',
} as const

/** One of the codes in {@link CliErrorCode}. */
export type CliErrorCodeValue = (typeof CliErrorCode)[keyof typeof CliErrorCode]

/** The exit status of the `strata` command for each outcome; one status per error code. Stable. */
export const ExitCode = {
  /** The command did what it was asked. */
  OK: 0,
  /** An unexpected failure (STRATA_INTERNAL_ERROR, or a library code the command does not expect). */
  INTERNAL: 1,
  /** STRATA_USAGE. */
  USAGE: 2,
  /** STRATA_DATABASE_NOT_FOUND: nothing exists at the path. */
  DATABASE_NOT_FOUND: 3,
  /** STRATA_NOT_A_DATABASE: a file, or a folder without a database. */
  NOT_A_DATABASE: 4,
  /** LEVEL_LOCKED: another process has the database open. */
  LOCKED: 5,
  /** LEVEL_CORRUPTION: damaged bytes, or `check` found a problem. */
  CORRUPTION: 6,
  /** STRATA_IO_ERROR: the operating system failed a read, write or sync. */
  IO_ERROR: 7,
  /** STRATA_UNSUPPORTED_FORMAT: a database of another format version. */
  UNSUPPORTED_FORMAT: 8,
  /** STRATA_KEY_NOT_FOUND. */
  KEY_NOT_FOUND: 9,
  /** STRATA_SNAPSHOT_NOT_FOUND: no named snapshot has that name. */
  SNAPSHOT_NOT_FOUND: 10,
  /** STRATA_SNAPSHOT_EXISTS: `snapshot create` names a snapshot that exists. */
  SNAPSHOT_EXISTS: 11,
  /** STRATA_DATABASE_EXISTS: `snapshot export` names a folder that holds a database. */
  DATABASE_EXISTS: 12,
  /** STRATA_NOT_A_DEMO_DATABASE: `demo --dir` names a folder holding a database the demo did not make. */
  NOT_A_DEMO_DATABASE: 13,
  /** STRATA_BENCH_UNAVAILABLE: `bench` where the benchmark suite is not installed (outside the Strata repository). */
  BENCH_UNAVAILABLE: 14,
  /** STRATA_CLONE_INCOMPLETE: the folder holds a clone that a crash or a failure cut short. */
  CLONE_INCOMPLETE: 15,
} as const

/** One exit status: the code that gives it and what it means, as `strata --help` lists it. */
export interface ExitStatus {
  status: number
  code: string | undefined
  meaning: string
}

/** Every exit status, in order (docs/operations.md §Exit status). */
export const EXIT_STATUSES: readonly ExitStatus[] = [
  { status: ExitCode.OK, code: undefined, meaning: 'success' },
  { status: ExitCode.INTERNAL, code: CliErrorCode.INTERNAL, meaning: 'unexpected failure: a bug in Strata' },
  { status: ExitCode.USAGE, code: CliErrorCode.USAGE, meaning: 'bad arguments or options' },
  { status: ExitCode.DATABASE_NOT_FOUND, code: ErrorCode.NOT_FOUND, meaning: 'nothing at the path' },
  { status: ExitCode.NOT_A_DATABASE, code: ErrorCode.NOT_A_DATABASE, meaning: 'a file, or a folder without a database' },
  { status: ExitCode.LOCKED, code: ErrorCode.LOCKED, meaning: 'another process has the database open' },
  { status: ExitCode.CORRUPTION, code: ErrorCode.CORRUPTION, meaning: 'damaged bytes, or check found a problem' },
  { status: ExitCode.IO_ERROR, code: ErrorCode.IO_ERROR, meaning: 'the operating system failed a read, write or sync' },
  { status: ExitCode.UNSUPPORTED_FORMAT, code: ErrorCode.UNSUPPORTED_FORMAT, meaning: 'a database of another format version' },
  { status: ExitCode.KEY_NOT_FOUND, code: CliErrorCode.KEY_NOT_FOUND, meaning: 'get: no such key' },
  { status: ExitCode.SNAPSHOT_NOT_FOUND, code: ErrorCode.SNAPSHOT_NOT_FOUND, meaning: 'no snapshot of that name' },
  { status: ExitCode.SNAPSHOT_EXISTS, code: ErrorCode.SNAPSHOT_EXISTS, meaning: 'snapshot create: a snapshot of that name exists' },
  { status: ExitCode.DATABASE_EXISTS, code: ErrorCode.EXISTS, meaning: 'snapshot export: the target already holds a database' },
  { status: ExitCode.NOT_A_DEMO_DATABASE, code: CliErrorCode.NOT_A_DEMO_DATABASE, meaning: 'demo: the folder holds a database the demo did not make' },
  { status: ExitCode.BENCH_UNAVAILABLE, code: CliErrorCode.BENCH_UNAVAILABLE, meaning: 'bench: the benchmark suite is not installed (it runs in a clone of the Strata repository)' },
  { status: ExitCode.CLONE_INCOMPLETE, code: ErrorCode.CLONE_INCOMPLETE, meaning: 'a clone cut short by a crash or failure: delete the folder and clone again' },
]

const EXIT_BY_CODE = new Map(EXIT_STATUSES.flatMap(({ code, status }) => (code === undefined ? [] : [[code, status] as const])))

/** A failure the command reports with a stable code: its own, or one of the library's. */
export class CliError extends Error {
  readonly code: CliErrorCodeValue | ErrorCodeValue

  constructor(code: CliErrorCodeValue | ErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliError'
    this.code = code
  }
}

/** How the command reports a failure: a stable code, a message, and the exit status. */
export interface Failure {
  code: string
  message: string
  exitCode: number
}

/** The failure to report for anything a command throws. */
export function describeFailure(error: unknown): Failure {
  if (error instanceof CommanderError) {
    // Commander's messages begin "error: "; ours begin with the program name instead.
    return { code: CliErrorCode.USAGE, message: error.message.replace(/^error: /, ''), exitCode: ExitCode.USAGE }
  }
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  const text = typeof message === 'string' ? message : String(error)
  const status = typeof code === 'string' ? EXIT_BY_CODE.get(code) : undefined
  if (typeof code === 'string' && status !== undefined) return { code, message: text, exitCode: status }
  // Node's own file system errors (EACCES, EMFILE, EISDIR, …) are I/O failures, as docs/errors.md says.
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return { code: ErrorCode.IO_ERROR, message: text, exitCode: ExitCode.IO_ERROR }
  if (typeof code === 'string' && /^(LEVEL|STRATA)_/.test(code)) return { code, message: text, exitCode: ExitCode.INTERNAL }
  return { code: CliErrorCode.INTERNAL, message: text, exitCode: ExitCode.INTERNAL }
}
