import { ErrorCode, type FileSystem, StrataError } from '@strata/storage'

/**
 * The empty file a clone's folder holds from before the clone writes anything there until the
 * clone is whole and durable (docs/format.md §Clones): an open refuses a folder holding it, so a
 * clone cut short by a crash or a failure is never opened as a database.
 */
export const CLONE_MARKER = 'CLONING'

/** Marks `target` as a clone under way, durably, before anything else is written there. */
export async function beginClone(target: FileSystem): Promise<void> {
  target.open(CLONE_MARKER, { create: true }).close()
  await target.syncDirectory()
}

/** Marks the clone in `target` whole: the caller has made every file of it durable. */
export async function endClone(target: FileSystem): Promise<void> {
  target.remove(CLONE_MARKER)
  await target.syncDirectory()
}

/** Throws STRATA_CLONE_INCOMPLETE if `fs` holds a clone that was cut short. */
export function refuseUnfinishedClone(fs: FileSystem): void {
  if (fs.exists(CLONE_MARKER)) {
    throw new StrataError(ErrorCode.CLONE_INCOMPLETE, `${fs.location} holds a clone that was cut short before it was whole: delete the folder and clone again`)
  }
}
