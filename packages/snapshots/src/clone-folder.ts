import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { CloneResult } from '@strata/btree'
import { ErrorCode, NodeFileSystem, StrataError } from '@strata/storage'

/** The folder beside `path` a clone is built in, renamed to `path` once whole (docs/snapshots.md §Clones). */
export function partialCloneFolder(path: string): string {
  return `${resolve(path)}.partial-clone`
}

/**
 * Makes a clone at `path` by way of a folder beside it, so a crash leaves `path` either missing
 * or a whole database, never half of one:
 * 1. Refuse a `path` that is anything but missing or an empty folder (STRATA_DATABASE_EXISTS).
 * 2. Remove what an interrupted clone left in the partial folder, and build the clone there.
 * 3. Rename the partial folder to `path`, and sync the parent folder so the rename is durable.
 * A clone that fails removes the partial folder.
 */
export async function cloneIntoFolder(path: string, make: (target: NodeFileSystem) => Promise<CloneResult>): Promise<CloneResult> {
  const final = resolve(path)
  let entries: string[] | undefined
  try {
    entries = readdirSync(final)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'ENOENT') throw new StrataError(ErrorCode.EXISTS, `${final} is not a folder a clone can be made in (${code})`, { cause: error })
  }
  if (entries !== undefined && entries.length > 0) throw new StrataError(ErrorCode.EXISTS, `${final} is not empty: a clone is made in a new folder`)
  const partial = partialCloneFolder(final)
  rmSync(partial, { recursive: true, force: true })
  let result: CloneResult
  try {
    result = await make(new NodeFileSystem(partial, { create: true }))
    // An empty folder at `path` is replaced by the rename (rename(2) takes an empty directory's place).
    renameSync(partial, final)
  } catch (error) {
    rmSync(partial, { recursive: true, force: true })
    throw error
  }
  const parent = openSync(dirname(final), 'r')
  try {
    fsyncSync(parent)
  } finally {
    closeSync(parent)
  }
  return result
}
