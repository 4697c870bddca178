import { ErrorCode, StrataError } from './errors.js'
import type { FileSystem } from './file-system.js'

/** The storage operations a {@link FaultInjector} can fail; a directory sync is a `sync` of the file named `.`. */
export type FaultOperation = 'write' | 'sync' | 'truncate'

/**
 * An injected failure: the errno code to fail with and, for a write, how many of its bytes land
 * before it fails (a short write, as a disk that fills up in the middle of a write gives).
 */
export interface Fault {
  code: string
  written?: number
}

/**
 * Decides, for each write, sync and truncation (`length` is the bytes a write carries, else 0),
 * whether it fails: an errno code (`'ENOSPC'`, `'EIO'`) or a {@link Fault} fails it, undefined lets
 * it through. Tests use it to play full disks and failing hardware.
 */
export type FaultInjector = (operation: FaultOperation, name: string, length: number) => string | Fault | undefined

/** A file system whose writes, syncs and truncations a test can fail by setting `faults`. */
export interface FaultableFileSystem extends FileSystem {
  faults: FaultInjector | undefined
}

/** What `faults` decided for one operation, as a {@link Fault} with `written` clamped to the write; undefined to go ahead. */
export function decideFault(faults: FaultInjector | undefined, operation: FaultOperation, name: string, length: number): Required<Fault> | undefined {
  const decision = faults?.(operation, name, length)
  if (decision === undefined) return undefined
  const fault = typeof decision === 'string' ? { code: decision } : decision
  const written = operation === 'write' ? Math.max(0, Math.min(length - 1, Math.floor(fault.written ?? 0))) : 0
  return { code: fault.code, written }
}

/**
 * The error an injected fault raises, worded as NodeFileSystem words a real one: STRATA_IO_ERROR
 * naming the operation, the file and the errno code, with an errno-coded error as its `cause`.
 */
export function faultError(fault: Fault, operation: FaultOperation, location: string): StrataError {
  const verb = operation === 'write' ? 'writing' : operation === 'sync' ? 'syncing' : 'truncating'
  const cause = new Error(`${fault.code}: injected fault, ${operation} '${location}'`) as NodeJS.ErrnoException
  cause.code = fault.code
  cause.syscall = operation
  cause.path = location
  return new StrataError(ErrorCode.IO_ERROR, `${verb} ${location} failed (${fault.code})`, { cause })
}
