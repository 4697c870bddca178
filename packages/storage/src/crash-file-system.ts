import { MemoryFileData, MemoryFileSystem, type MemoryFileSystemObserver } from './memory-file-system.js'

/** Disks write whole sectors atomically; a torn write keeps a prefix of whole sectors. */
export const SECTOR_SIZE = 512

type Event =
  | { kind: 'write'; name: string; offset: number; data: Buffer }
  | { kind: 'sync'; name: string }
  | { kind: 'truncate'; name: string; size: number }
  | { kind: 'create'; name: string }
  | { kind: 'remove'; name: string }

/** How a crash treats the writes not yet synced. */
export type CrashMode =
  /** Every unsynced write is lost. */
  | 'drop'
  /** Unsynced writes reached the disk, except the last one, of which only a prefix of whole sectors did. */
  | 'torn'

/** The disk as it would be found after a crash at one point of a recorded run. */
export interface CrashState {
  /** How many recorded events (writes, syncs, truncations, creations, removals) happened before the crash. */
  point: number
  mode: CrashMode
  fs: MemoryFileSystem
}

interface PendingWrite {
  offset: number
  data: Buffer
  /** The event's index: orders writes across files. */
  seq: number
}

interface FileTrack {
  durable: MemoryFileData
  pending: PendingWrite[]
}

/**
 * A memory file system that records every write and sync, so that a test can rebuild the disk as a
 * crash would leave it at every write/sync boundary of a run (SQLite's crash VFS does the same).
 * Creations, removals and truncations are taken as durable at once, as a journaling file system
 * whose directory is synced with them would keep them.
 */
export class CrashFileSystem extends MemoryFileSystem {
  readonly events: Event[] = []

  constructor() {
    super('crash:')
    const events = this.events
    const observer: MemoryFileSystemObserver = {
      write: (name, offset, data) => events.push({ kind: 'write', name, offset, data: Buffer.from(data) }),
      sync: (name) => events.push({ kind: 'sync', name }),
      truncate: (name, size) => events.push({ kind: 'truncate', name, size }),
      create: (name) => events.push({ kind: 'create', name }),
      remove: (name) => events.push({ kind: 'remove', name }),
    }
    this.observer = observer
  }

  /** The number of events recorded so far: a crash point. */
  get point(): number {
    return this.events.length
  }

  /**
   * Every crash state from `from` to the last event: at each point, the disk with unsynced writes
   * dropped, and (where some write is unsynced) the disk with the last write torn.
   */
  *crashStates(from = 0): Generator<CrashState> {
    const files = new Map<string, FileTrack>()
    for (let point = 0; point <= this.events.length; point++) {
      if (point >= from) {
        yield { point, mode: 'drop', fs: image(files, false) }
        const hasPending = [...files.values()].some((f) => f.pending.length > 0)
        if (hasPending) yield { point, mode: 'torn', fs: image(files, true) }
      }
      const event = this.events[point]
      if (!event) break
      apply(files, event, point)
    }
  }
}

function apply(files: Map<string, FileTrack>, event: Event, seq: number): void {
  switch (event.kind) {
    case 'create':
      files.set(event.name, { durable: new MemoryFileData(), pending: [] })
      return
    case 'remove':
      files.delete(event.name)
      return
    case 'write':
      files.get(event.name)?.pending.push({ offset: event.offset, data: event.data, seq })
      return
    case 'sync': {
      const track = files.get(event.name)
      if (!track) return
      for (const w of track.pending) track.durable.write(w.offset, w.data)
      track.pending = []
      return
    }
    case 'truncate': {
      const track = files.get(event.name)
      if (!track) return
      track.durable.truncate(event.size)
      for (const w of track.pending) {
        if (w.offset >= event.size) w.data = Buffer.alloc(0)
        else if (w.offset + w.data.length > event.size) w.data = w.data.subarray(0, event.size - w.offset)
      }
      return
    }
  }
}

function image(files: Map<string, FileTrack>, torn: boolean): MemoryFileSystem {
  const fs = new MemoryFileSystem('crash-image:')
  // The last unsynced write, across all files, is the one a torn crash cuts short.
  let last: PendingWrite | undefined
  if (torn) for (const track of files.values()) for (const w of track.pending) if (!last || w.seq > last.seq) last = w
  for (const [name, track] of files) {
    const data = new MemoryFileData(track.durable.snapshot())
    if (torn) for (const w of track.pending) data.write(w.offset, w === last ? tornPrefix(w) : w.data)
    fs.files.set(name, data)
  }
  return fs
}

/** The whole sectors of a write up to the sector boundary nearest its middle (none if it fits one sector). */
function tornPrefix(w: PendingWrite): Buffer {
  const middle = w.offset + Math.floor(w.data.length / 2)
  const boundary = Math.round(middle / SECTOR_SIZE) * SECTOR_SIZE
  const keep = boundary > w.offset && boundary < w.offset + w.data.length ? boundary - w.offset : 0
  return w.data.subarray(0, keep)
}
