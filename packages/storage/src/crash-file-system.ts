import { createHash } from 'node:crypto'
import { MemoryFileData, MemoryFileSystem, type MemoryFileSystemObserver } from './memory-file-system.js'

/** Disks write whole sectors atomically; a torn write keeps a prefix of whole sectors. */
export const SECTOR_SIZE = 512

type Event =
  | { kind: 'write'; name: string; offset: number; data: Buffer }
  | { kind: 'truncate'; name: string; size: number }
  | { kind: 'create'; name: string }
  /** A new name for another folder's file, whose bytes (durable there) are `data`: a hard link. */
  | { kind: 'link'; name: string; data: Buffer }
  | { kind: 'remove'; name: string }
  /** A file's sync began: it covers that file's writes and truncations recorded before it. */
  | { kind: 'sync-start'; name: string; sync: number }
  /** A directory sync began: it covers the creations and removals recorded before it. */
  | { kind: 'dir-sync-start'; sync: number }
  /** A sync (of a file or of the directory) completed: what it covers is durable from here on. */
  | { kind: 'sync-end'; sync: number }

/**
 * How a crash treats what no completed sync made durable. Each is a way a real disk may leave it
 * after a power loss (ALICE and CrashMonkey model the same):
 */
export type CrashMode =
  /** Every unsynced write, truncation, creation and removal is lost. */
  | 'drop'
  /** Every unsynced change reached the disk, except the last write, of which only a prefix of whole sectors did. */
  | 'torn'
  /** Every unsynced change reached the disk, except the oldest unsynced write: later writes overtook it. */
  | 'hole'
  /** Every unsynced write reached its file, but no unsynced creation or removal reached the directory. */
  | 'unlinked'
  /** A random mix: each unsynced write kept, lost or torn, and each file's unsynced directory changes kept up to a random one. */
  | 'reorder'

/** The ways a crash state differs from the run it was taken from, for a campaign's counts. */
export interface CrashFeatures {
  /** Syncs (of files and of the directory) begun but not completed at the crash. */
  syncsInFlight: number
  /** Whether a later unsynced write survived while an earlier one was lost or torn. */
  reordered: boolean
  /** Creations and removals the run made that the disk lost (a created file gone, a removed one back). */
  lostEntries: number
}

/** The disk as it would be found after a crash at one point of a recorded run. */
export interface CrashState {
  /** How many recorded events happened before the crash. */
  point: number
  mode: CrashMode
  features: CrashFeatures
  fs: MemoryFileSystem
  /** A digest of every file's name and bytes: equal digests, equal disks (a campaign checks each disk once). */
  digest: string
}

/** Options of {@link CrashFileSystem}. */
export interface CrashFileSystemOptions {
  /** Seeds the lengths of syncs and the mixes of 'reorder' states. Default 1. */
  seed?: number
  /** 'reorder' states per crash point with unsynced changes. Default 2. */
  reorders?: number
}

interface FileOp {
  kind: 'write' | 'truncate'
  offset: number
  data: Buffer
  size: number
  /** The event's index: orders changes across files. */
  seq: number
}

/** One file's contents: what completed syncs made durable, and the changes after. */
interface FileTrack {
  durable: MemoryFileData
  pending: FileOp[]
}

interface DirOp {
  kind: 'create' | 'remove'
  name: string
  track: FileTrack
  seq: number
}

/** A choice for each unsynced change, made by a {@link CrashMode}. */
interface Choice {
  /** Whether a directory change (the n-th of one name's unsynced changes) reached the disk. */
  entry(op: DirOp): boolean
  /** What reached the disk of an unsynced write. */
  write(op: FileOp, isLast: boolean, isOldest: boolean): 'kept' | 'lost' | 'torn'
}

/**
 * A memory file system that records every change and sync, so that a test can rebuild the disk as
 * a power loss would leave it at every point of a run, as unkind as a real disk:
 * - a sync takes time: it starts, other work goes on, and it completes later (syncs of small
 *   files end sooner than syncs of large ones, so a later sync may complete first);
 * - only a *completed* sync of a file makes that file's earlier writes and truncations durable;
 * - unsynced writes of any file may be lost, torn or reordered, not only the last one;
 * - creating and removing a file is durable only once a directory sync begun after it completes;
 *   so is a hard link made by {@link MemoryFileSystem.share}, whose bytes are its file's (durable
 *   in the folder it came from).
 * Every boundary between events is a crash point, syncs in flight included.
 */
export class CrashFileSystem extends MemoryFileSystem {
  readonly events: Event[] = []
  readonly #reorders: number
  readonly #seed: number
  #random: () => number
  #syncs = 0

  constructor(options: CrashFileSystemOptions = {}) {
    super('crash:')
    this.#seed = options.seed ?? 1
    this.#reorders = options.reorders ?? 2
    this.#random = seeded(this.#seed)
    const events = this.events
    const observer: MemoryFileSystemObserver = {
      write: (name, offset, data) => events.push({ kind: 'write', name, offset, data: Buffer.from(data) }),
      sync: (name) => this.#sync({ kind: 'sync-start', name, sync: this.#syncs++ }, this.#unsyncedBytes(name)),
      syncDirectory: () => this.#sync({ kind: 'dir-sync-start', sync: this.#syncs++ }, 0),
      truncate: (name, size) => events.push({ kind: 'truncate', name, size }),
      create: (name) => events.push({ kind: 'create', name }),
      link: (name, data) => events.push({ kind: 'link', name, data: Buffer.from(data) }),
      remove: (name) => events.push({ kind: 'remove', name }),
    }
    this.observer = observer
  }

  /** The number of events recorded so far: a crash point. */
  get point(): number {
    return this.events.length
  }

  /**
   * Records a sync's start, waits as long as the disk would take (turns of the event loop, more
   * for more unsynced bytes, and a random few more), then records its completion.
   */
  async #sync(start: Event & { sync: number }, bytes: number): Promise<void> {
    this.events.push(start)
    const turns = 1 + Math.min(6, Math.floor(bytes / 16384)) + Math.floor(this.#random() * 3)
    for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve))
    this.events.push({ kind: 'sync-end', sync: start.sync })
  }

  /** Bytes written to `name` since its last sync began, as the disk would have to write them now. */
  #unsyncedBytes(name: string): number {
    let bytes = 0
    for (let i = this.events.length - 1; i >= 0; i--) {
      const event = this.events[i] as Event
      if (event.kind === 'sync-start' && event.name === name) break
      if (event.kind === 'write' && event.name === name) bytes += event.data.length
    }
    return bytes
  }

  /**
   * Every crash state from point `from` to the last event. At each point: the disk with every
   * unsynced change lost ('drop'); and where some change is unsynced, the disk with the last write
   * torn, with the oldest unsynced write lost, with the unsynced creations and removals lost, and
   * random mixes. States identical to one already yielded for the same point are skipped.
   */
  *crashStates(from = 0): Generator<CrashState> {
    const disk = new DiskModel()
    const random = seeded(this.#seed * 7919 + 17)
    for (let point = 0; point <= this.events.length; point++) {
      if (point >= from) {
        const seen = new Set<string>()
        const modes: CrashMode[] = disk.hasUnsynced() ? ['drop', 'torn', 'hole', 'unlinked', ...Array<CrashMode>(this.#reorders).fill('reorder')] : ['drop']
        for (const mode of modes) {
          const { fs, features } = disk.image(choose(mode, random))
          const key = digest(fs)
          if (seen.has(key)) continue
          seen.add(key)
          yield { point, mode, features: { ...features, syncsInFlight: disk.syncsInFlight() }, fs, digest: key }
        }
      }
      const event = this.events[point]
      if (!event) break
      disk.apply(event, point)
    }
  }
}

/** The choices of one crash mode; 'reorder' draws from `random`. */
function choose(mode: CrashMode, random: () => number): Choice {
  switch (mode) {
    case 'drop':
      return { entry: () => false, write: () => 'lost' }
    case 'torn':
      return { entry: () => true, write: (_op, isLast) => (isLast ? 'torn' : 'kept') }
    case 'hole':
      return { entry: () => true, write: (_op, _isLast, isOldest) => (isOldest ? 'lost' : 'kept') }
    case 'unlinked':
      return { entry: () => false, write: () => 'kept' }
    case 'reorder': {
      // One name's directory changes reach the disk in order: a lost one loses those after it.
      const stopped = new Set<string>()
      return {
        entry: (op) => {
          if (stopped.has(op.name)) return false
          if (random() < 0.5) return true
          stopped.add(op.name)
          return false
        },
        write: () => {
          const r = random()
          return r < 0.5 ? 'kept' : r < 0.8 ? 'lost' : 'torn'
        },
      }
    }
  }
}

/** The disk a recorded run leaves, event by event: what is durable, and what is still unsynced. */
class DiskModel {
  /** The folder as the running process sees it. */
  readonly #live = new Map<string, FileTrack>()
  /** The folder as the disk holds it for certain. */
  readonly #durable = new Map<string, FileTrack>()
  /** Creations and removals no completed directory sync covers yet, in order. */
  #entries: DirOp[] = []
  /** Syncs in flight: of a file (its track) or of the directory, each with the first event it does not cover. */
  readonly #syncs = new Map<number, { track: FileTrack | undefined; upTo: number }>()

  apply(event: Event, seq: number): void {
    switch (event.kind) {
      case 'create':
      case 'link': {
        // A link's bytes are durable already, in the file it names; its name is not, until a directory sync.
        const track: FileTrack = { durable: new MemoryFileData(event.kind === 'link' ? Buffer.from(event.data) : undefined), pending: [] }
        this.#live.set(event.name, track)
        this.#entries.push({ kind: 'create', name: event.name, track, seq })
        return
      }
      case 'remove': {
        const track = this.#live.get(event.name)
        if (!track) return
        this.#live.delete(event.name)
        this.#entries.push({ kind: 'remove', name: event.name, track, seq })
        return
      }
      case 'write':
        this.#live.get(event.name)?.pending.push({ kind: 'write', offset: event.offset, data: event.data, size: 0, seq })
        return
      case 'truncate':
        this.#live.get(event.name)?.pending.push({ kind: 'truncate', offset: 0, data: Buffer.alloc(0), size: event.size, seq })
        return
      case 'sync-start':
        this.#syncs.set(event.sync, { track: this.#live.get(event.name), upTo: seq })
        return
      case 'dir-sync-start':
        this.#syncs.set(event.sync, { track: undefined, upTo: seq })
        return
      case 'sync-end': {
        const sync = this.#syncs.get(event.sync)
        if (!sync) return
        this.#syncs.delete(event.sync)
        if (sync.track) {
          const track = sync.track
          const covered = track.pending.filter((op) => op.seq < sync.upTo)
          for (const op of covered) applyOp(track.durable, op, op.data)
          track.pending = track.pending.filter((op) => op.seq >= sync.upTo)
        } else {
          for (const op of this.#entries) if (op.seq < sync.upTo) applyEntry(this.#durable, op)
          this.#entries = this.#entries.filter((op) => op.seq >= sync.upTo)
        }
        return
      }
    }
  }

  syncsInFlight(): number {
    return this.#syncs.size
  }

  hasUnsynced(): boolean {
    if (this.#entries.length > 0) return true
    for (const track of this.#tracks()) if (track.pending.length > 0) return true
    return false
  }

  /** The disk after a crash now, each unsynced change reaching it or not as `choice` says. */
  image(choice: Choice): { fs: MemoryFileSystem; features: Omit<CrashFeatures, 'syncsInFlight'> } {
    // The directory: the durable one, with the unsynced changes the choice keeps.
    const folder = new Map(this.#durable)
    let lostEntries = 0
    for (const op of this.#entries) {
      if (choice.entry(op)) applyEntry(folder, op)
      else lostEntries++
    }
    // The files: their durable bytes, with the unsynced changes the choice keeps.
    const writes: FileOp[] = []
    for (const track of folder.values()) for (const op of track.pending) if (op.kind === 'write') writes.push(op)
    const last = writes.reduce<FileOp | undefined>((a, b) => (!a || b.seq > a.seq ? b : a), undefined)
    const oldest = writes.reduce<FileOp | undefined>((a, b) => (!a || b.seq < a.seq ? b : a), undefined)
    const fates = new Map<FileOp, 'kept' | 'lost' | 'torn'>()
    for (const op of writes.sort((a, b) => a.seq - b.seq)) fates.set(op, choice.write(op, op === last, op === oldest))
    let missingBefore = false
    let reordered = false
    for (const op of writes) {
      const fate = fates.get(op)
      if (fate !== 'kept') missingBefore = true
      else if (missingBefore) reordered = true
    }
    const fs = new MemoryFileSystem('crash-image:')
    for (const [name, track] of folder) {
      const data = new MemoryFileData(track.durable.snapshot())
      for (const op of track.pending) {
        // A truncation is lost or kept as a write would be, never torn.
        const fate = op.kind === 'truncate' ? (choice.write(op, false, false) === 'lost' ? 'lost' : 'kept') : fates.get(op)
        if (fate === 'kept') applyOp(data, op, op.data)
        else if (fate === 'torn') applyOp(data, op, tornPrefix(op))
      }
      fs.files.set(name, data)
    }
    return { fs, features: { reordered, lostEntries } }
  }

  /** Every file the disk may hold: live ones, and removed ones whose removal is not durable. */
  *#tracks(): Generator<FileTrack> {
    yield* this.#live.values()
    for (const op of this.#entries) if (op.kind === 'remove') yield op.track
  }
}

function applyEntry(folder: Map<string, FileTrack>, op: DirOp): void {
  if (op.kind === 'create') folder.set(op.name, op.track)
  else if (folder.get(op.name) === op.track) folder.delete(op.name)
}

function applyOp(data: MemoryFileData, op: FileOp, bytes: Buffer): void {
  if (op.kind === 'truncate') data.truncate(op.size)
  else if (bytes.length > 0) data.write(op.offset, bytes)
}

/** The whole sectors of a write up to the sector boundary nearest its middle (none if it fits one sector). */
function tornPrefix(w: FileOp): Buffer {
  const middle = w.offset + Math.floor(w.data.length / 2)
  const boundary = Math.round(middle / SECTOR_SIZE) * SECTOR_SIZE
  const keep = boundary > w.offset && boundary < w.offset + w.data.length ? boundary - w.offset : 0
  return w.data.subarray(0, keep)
}

/** A digest of every file's name and bytes: equal digests, equal disks. */
function digest(fs: MemoryFileSystem): string {
  const hash = createHash('sha256')
  for (const name of fs.list()) {
    const data = fs.files.get(name) as MemoryFileData
    hash.update(`${name}\0${data.length}\0`)
    hash.update(data.bytes.subarray(0, data.length))
  }
  return hash.digest('base64')
}

/** A small deterministic generator (mulberry32). */
function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
