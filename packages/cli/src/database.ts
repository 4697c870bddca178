import { statSync } from 'node:fs'
import type { Engine, SnapshotEngine } from '@strata/btree'
import { CowEngine } from '@strata/cow-engine'
import { RowEngine } from '@strata/row-engine'
import { ErrorCode, NodeFileSystem } from '@strata/storage'
import { type EngineName, engineOf } from 'strata'
import { CliError } from './cli-error.js'
import { recoveryBar } from './progress.js'

/**
 * How a command opens a database: `read` never writes to the folder (the lock aside: see
 * docs/operations.md), `write` may, for the commands that write by nature.
 */
export type OpenMode = 'read' | 'write'

/**
 * The folder at `path` and the engine of its database, once it is known to hold one. Nothing is
 * opened for writing and nothing is created before that is known, so a wrong path is never written to.
 */
function databaseFolder(path: string, readOnly: boolean): { fs: NodeFileSystem; engine: EngineName } {
  let isFolder: boolean
  try {
    isFolder = statSync(path).isDirectory()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError(ErrorCode.NOT_FOUND, `${path} does not exist`, { cause: error })
    throw error
  }
  if (!isFolder) throw new CliError(ErrorCode.NOT_A_DATABASE, `${path} is a file, not a database folder`)
  const fs = new NodeFileSystem(path, { readOnly })
  // The folder's files say its engine, as they do for StrataLevel; a folder with two databases is refused.
  const engine = engineOf(fs)
  if (!engine) throw new CliError(ErrorCode.NOT_A_DATABASE, `${path} is not a Strata database: it has neither a META file (redirect-on-write) nor a pages.db (copy-before-write), or only empty ones`)
  return { fs, engine }
}

/** Opens the database at `path`, with the engine its files are of, after checking it is one; the caller closes it. */
export function openDatabase(path: string, mode: OpenMode): Promise<SnapshotEngine> {
  const readOnly = mode === 'read'
  const { fs, engine } = databaseFolder(path, readOnly)
  // A database left by a crash replays its log as it opens: a bar on the terminal shows how far.
  const onRecovery = recoveryBar()
  return engine === 'row' ? RowEngine.open({ fs, createIfMissing: false, readOnly, onRecovery }) : CowEngine.open({ fs, createIfMissing: false, readOnly, onRecovery })
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

/**
 * Creates an empty database of `like`'s engine in the folder at `path` (made if missing), for a
 * snapshot export; STRATA_DATABASE_EXISTS if the folder holds a database of either engine.
 */
export async function createDatabaseLike(like: SnapshotEngine, path: string): Promise<Engine> {
  const fs = new NodeFileSystem(path, { create: true })
  if (engineOf(fs) !== undefined) throw new CliError(ErrorCode.EXISTS, `${path} already holds a database`)
  return like instanceof CowEngine ? CowEngine.open({ fs, errorIfExists: true }) : RowEngine.open({ fs, errorIfExists: true })
}
