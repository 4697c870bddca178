import * as fs from 'node:fs'
import { join } from 'node:path'

/**
 * The lock of a database folder between processes (docs/format.md §LOCK): a `LOCK` file that
 * names its owner's pid. A lock file never appears half-written: it is written under a temporary
 * name and hard-linked into place, which fails when the name is taken, as `O_EXCL` does.
 *
 * A `LOCK` whose owner no longer runs is taken over under the *takeover mutex*, so that two
 * processes that both saw the dead owner cannot both take it: under the mutex the owner is read
 * again, and a stale `LOCK` is replaced by renaming a new one over it, so the name is never free
 * for an ordinary open to take meanwhile. The mutex is a chain of files `LOCK.takeover.1`,
 * `LOCK.takeover.2`, …, each naming its holder's pid. A process holds the mutex once it has
 * created a file of the chain and every file below it names a dead holder and is still in place
 * after that creation. A holder that dies leaves its file, and the next taker steps over it to the
 * next one, so no file is removed while its holder may still act on it; a holder removes the files
 * it stepped over, lowest first, then its own, when it is done.
 */

const LOCK = 'LOCK'
const TAKEOVER_PREFIX = 'LOCK.takeover.'
const TEMPORARY_PREFIX = 'LOCK.new.'
/** How many times an open goes round when the lock changes hands under it, before it gives up. */
const ATTEMPTS = 10
/** `link` errors of a file system without hard links (FAT, some network and FUSE file systems). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'])

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errorCode(error) === 'EPERM'
  }
}

/** Whether a lock file naming `pid` (NaN when it names none) is one a live process may act on. */
function isHeld(pid: number): boolean {
  // Our own pid in a lock file we do not hold was left by an earlier process that had our pid.
  return Number.isInteger(pid) && pid !== process.pid && isProcessAlive(pid)
}

/** An open lock file: its holder, and a descriptor that keeps the file's identity while we look. */
interface LockFileHolder {
  readonly name: string
  readonly fd: number
  readonly pid: number
}

/** Opens and reads lock file `name`; undefined when it is not there (or was removed while we read it). */
function openHolder(folder: string, name: string): LockFileHolder | undefined {
  let fd: number
  try {
    fd = fs.openSync(join(folder, name), fs.constants.O_RDONLY)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
  try {
    const pid = Number.parseInt(fs.readFileSync(fd, 'utf8'), 10)
    // Removed after we opened it: its holder let go of it, so it is no longer there.
    if (fs.fstatSync(fd).nlink === 0) {
      fs.closeSync(fd)
      return undefined
    }
    return { name, fd, pid }
  } catch (error) {
    fs.closeSync(fd)
    throw error
  }
}

/** Writes a new lock file naming this process under a temporary name of its own; returns that name. */
function writeTemporary(folder: string): string {
  const name = `${TEMPORARY_PREFIX}${process.pid}.${Math.random().toString(36).slice(2)}`
  fs.writeFileSync(join(folder, name), `${process.pid}\n`, { flag: 'wx' })
  return name
}

/** Creates lock file `name` naming this process, whole or not at all; false when the name is taken. */
function createExclusive(folder: string, name: string): boolean {
  const temporary = writeTemporary(folder)
  try {
    fs.linkSync(join(folder, temporary), join(folder, name))
    return true
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false
    if (!NO_HARD_LINKS.has(errorCode(error) ?? '')) throw error
  } finally {
    fs.rmSync(join(folder, temporary), { force: true })
  }
  // No hard links here: create the file exclusively and write it in place.
  try {
    fs.writeFileSync(join(folder, name), `${process.pid}\n`, { flag: 'wx' })
    return true
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false
    throw error
  }
}

/** The takeover mutex, held: the file this process created and the dead holders' files it stepped over. */
interface TakeoverMutex {
  readonly own: string
  readonly steppedOver: readonly LockFileHolder[]
}

/**
 * Takes the takeover mutex. Returns 'busy' when a live process holds it (that process is taking
 * the lock over, or found it held), and 'again' when a holder that was done removed the files
 * this process stepped over while it did (the chain is then shorter: start again).
 */
function acquireTakeover(folder: string): TakeoverMutex | 'busy' | 'again' {
  const steppedOver: LockFileHolder[] = []
  const closeAll = () => {
    for (const holder of steppedOver) fs.closeSync(holder.fd)
  }
  try {
    for (let generation = 1; ; ) {
      const name = `${TAKEOVER_PREFIX}${generation}`
      if (createExclusive(folder, name)) {
        // Each file stepped over must still be the one we saw: its removal means the mutex
        // changed hands meanwhile, and a file below ours may now be held by a live process.
        if (steppedOver.every((holder) => fs.fstatSync(holder.fd).nlink > 0)) return { own: name, steppedOver }
        fs.rmSync(join(folder, name), { force: true })
        closeAll()
        return 'again'
      }
      const holder = openHolder(folder, name)
      if (holder === undefined) continue // released meanwhile: try this generation again
      steppedOver.push(holder)
      if (isHeld(holder.pid)) {
        closeAll()
        return 'busy'
      }
      generation++
    }
  } catch (error) {
    closeAll()
    throw error
  }
}

/** Lets go of the takeover mutex: removes the dead holders' files stepped over, lowest first, then its own. */
function releaseTakeover(folder: string, mutex: TakeoverMutex): void {
  for (const holder of mutex.steppedOver) {
    fs.rmSync(join(folder, holder.name), { force: true })
    fs.closeSync(holder.fd)
  }
  fs.rmSync(join(folder, mutex.own), { force: true })
}

/**
 * Under the takeover mutex: takes `LOCK` if it is free or names a dead owner. Returns 'taken'
 * when this process now owns it, 'held' when a live process does, and 'changed' when another
 * process took the name meanwhile (the caller goes round).
 */
function takeOverUnderMutex(folder: string): 'taken' | 'held' | 'changed' {
  const owner = openHolder(folder, LOCK)
  if (owner === undefined) return createExclusive(folder, LOCK) ? 'taken' : 'changed'
  fs.closeSync(owner.fd)
  if (isHeld(owner.pid)) return 'held'
  // Only a taker under the mutex removes or replaces a dead owner's LOCK, and we are the only one:
  // it is still the file we just read. Rename over it, so the name is never free meanwhile.
  const temporary = writeTemporary(folder)
  try {
    fs.renameSync(join(folder, temporary), join(folder, LOCK))
  } catch (error) {
    fs.rmSync(join(folder, temporary), { force: true })
    throw error
  }
  return 'taken'
}

/** Removes temporary lock files that processes which no longer run left behind (killed mid-lock). */
function sweepTemporaries(folder: string): void {
  for (const name of fs.readdirSync(folder)) {
    if (!name.startsWith(TEMPORARY_PREFIX)) continue
    const pid = Number.parseInt(name.slice(TEMPORARY_PREFIX.length), 10)
    // A temporary name is never used twice, so one whose process is gone is nobody's.
    if (!isHeld(pid) && pid !== process.pid) fs.rmSync(join(folder, name), { force: true })
  }
}

/**
 * Takes `folder`'s lock for this process: creates `LOCK` naming it, or takes over a `LOCK` whose
 * owner no longer runs. Returns false when a live process holds it. Throws what the file system
 * throws (`EROFS` on read-only media, `ENOENT` for a missing folder).
 */
export function takeFolderLock(folder: string): boolean {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (createExclusive(folder, LOCK)) {
      sweepTemporaries(folder)
      return true
    }
    const owner = openHolder(folder, LOCK)
    if (owner === undefined) continue // removed meanwhile by its owner: try again
    fs.closeSync(owner.fd)
    if (isHeld(owner.pid)) return false
    // A live holder of the mutex ends it with a live owner of LOCK, itself or the one it found.
    const mutex = acquireTakeover(folder)
    if (mutex === 'busy') return false
    if (mutex === 'again') continue
    let outcome: ReturnType<typeof takeOverUnderMutex>
    try {
      outcome = takeOverUnderMutex(folder)
    } finally {
      releaseTakeover(folder, mutex)
    }
    if (outcome === 'held') return false
    if (outcome === 'taken') {
      sweepTemporaries(folder)
      return true
    }
  }
  return false
}

/** Lets go of `folder`'s lock, taken by {@link takeFolderLock}. */
export function releaseFolderLock(folder: string): void {
  fs.rmSync(join(folder, LOCK), { force: true })
}
