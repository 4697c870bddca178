import { statSync } from 'node:fs'
import type { SnapshotEngine } from '@strata/btree'
import { holdsDatabase, RowEngine } from '@strata/row-engine'
import { ErrorCode, NodeFileSystem } from '@strata/storage'
import { CliError } from './cli-error.js'

/**
 * How a command opens a database: `read` never writes to the folder (the lock aside: see
 * docs/operations.md), `write` may, for the commands that write by nature.
 */
export type OpenMode = 'read' | 'write'

/**
 * The folder at `path`, once it is known to hold a database. Nothing is opened for writing and
 * nothing is created before that is known, so a wrong path is never written to.
 */
function databaseFolder(path: string): NodeFileSystem {
  let isFolder: boolean
  try {
    isFolder = statSync(path).isDirectory()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError(ErrorCode.NOT_FOUND, `${path} does not exist`, { cause: error })
    throw error
  }
  if (!isFolder) throw new CliError(ErrorCode.NOT_A_DATABASE, `${path} is a file, not a database folder`)
  const fs = new NodeFileSystem(path)
  if (!holdsDatabase(fs)) throw new CliError(ErrorCode.NOT_A_DATABASE, `${path} is not a Strata database: it has no META file, or an empty one`)
  return fs
}

/** Opens the database at `path` after checking it is one; the caller closes it. */
export function openDatabase(path: string, mode: OpenMode): Promise<SnapshotEngine> {
  // The redirect-on-write engine is the only one so far; the copy-before-write engine's folders
  // will be told apart here when it lands.
  return RowEngine.open({ fs: databaseFolder(path), createIfMissing: false, readOnly: mode === 'read' })
}

/** Runs `task` on the database at `path` and closes it, whether `task` succeeds or not. */
export async function withDatabase<T>(path: string, mode: OpenMode, task: (engine: SnapshotEngine) => Promise<T>): Promise<T> {
  const engine = await openDatabase(path, mode)
  let result: T
  try {
    result = await task(engine)
  } catch (error) {
    await engine.close().catch(() => undefined)
    throw error
  }
  await engine.close()
  return result
}
