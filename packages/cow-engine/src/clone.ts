import type { CloneResult } from '@strata/btree'
import { ErrorCode, type FileSystem, StrataError, syncFiles } from '@strata/storage'
import type { Database } from './database.js'
import { PAGE_FILE } from './page-file.js'
import { STORE_FILE_PATTERN } from './preimage-store.js'
import { WAL_FILE } from './wal.js'

/** The files of a COW database, by name: the page file, the WAL and the pre-image stores. */
export function databaseFiles(fs: FileSystem): string[] {
  return fs.list().filter((name) => name === PAGE_FILE || name === WAL_FILE || STORE_FILE_PATTERN.test(name))
}

/** Refuses a clone the engine cannot make into `target`: an unknown snapshot, a folder not empty, files that cannot be shared. */
export function checkCloneTarget(db: Database, name: string | undefined, target: FileSystem): void {
  if (name !== undefined && !db.snapshots.named().some((s) => s.named?.name === name)) {
    throw new StrataError(ErrorCode.SNAPSHOT_NOT_FOUND, `no snapshot named ${JSON.stringify(name)}`)
  }
  if (!db.fs.share) throw new StrataError(ErrorCode.NOT_SUPPORTED, `${db.fs.location} cannot share its files with a clone`)
  if (target.list().length > 0) throw new StrataError(ErrorCode.EXISTS, `${target.location} is not empty: a clone is made in an empty folder`)
}

/**
 * Copies every file of `db` into `target` and makes the copies durable (docs/format.md §COW
 * clones). The caller has just checkpointed `db` on its task queue, so the files hold the head and
 * every named snapshot whole; the copies are taken without awaiting between them, so nothing of
 * `db` changes while they are made. Every file is copied, never linked: pages.db, the WAL and the
 * stores are all written in place. A copy is a reflink where the file system has them.
 */
export async function copyDatabaseFiles(db: Database, target: FileSystem): Promise<CloneResult> {
  const share = db.fs.share?.bind(db.fs)
  if (!share) throw new StrataError(ErrorCode.NOT_SUPPORTED, `${db.fs.location} cannot share its files with a clone`)
  const files = databaseFiles(db.fs)
  let bytesWritten = 0
  for (const name of files) bytesWritten += share(name, target, { link: false }).bytesWritten
  await syncFiles(target, files)
  return { linkedFiles: 0, copiedFiles: files.length, bytesWritten }
}
