import { type BlockFile, corruption, type FileSystem } from '@strata/storage'
import type { CopyEntry } from './catalogue.js'
import { copyChecksum, decodeSavedValue, encodeSavedValue, type PreimageStore, removeQuietly, repairCopy, type SavedCopy } from './preimage-store.js'
import type { CowSnapshot } from './snapshots.js'

/** One copy in the shared store: a page version or a saved value, in `slots` consecutive slots. */
interface Entry {
  readonly slot: number
  readonly slots: number
  /** Bytes written: a page, or a framed value. */
  readonly bytes: number
  /** Live snapshots that hold this copy. */
  refs: number
  /** For a page copy: its page number and CRC-32. */
  readonly page?: { number: number; crc: number }
  /** For a saved value: the LSN of the VALUE record it came from. */
  readonly lsn?: number
}

/** The copies one snapshot holds. */
interface Holdings {
  readonly pages: Map<number, Entry>
  readonly values: Map<number, Entry>
}

/** The file of the shared store. */
export const SHARED_STORE_FILE = 'preimages.db'

/**
 * One pre-image store for all snapshots, `preimages.db`, in page-sized slots. A page version is
 * copied once however many snapshots need it; each snapshot holds references to the copies it
 * reads, and a copy goes when the last snapshot holding it is released. Freed slots are reused by
 * later copies, and free slots at the end of the file are cut off. The slots of named snapshots'
 * copies are in their copy lists, from which the store is rebuilt after a restart.
 */
export class SharedStore implements PreimageStore {
  readonly mode = 'shared' as const
  readonly #fs: FileSystem
  readonly #pageSize: number
  #file: BlockFile | undefined
  /** Slots in the file. */
  #slots = 0
  /** Free slots below `#slots`, descending, so that `pop()` gives the lowest. */
  #free: number[] = []
  readonly #freeSet = new Set<number>()
  /** Every copy, by its first slot. */
  readonly #entries = new Map<number, Entry>()
  readonly #values = new Map<number, Entry>()
  /** Snapshot id → the copies it holds. */
  readonly #held = new Map<number, Holdings>()
  #unsynced = false
  /** Whether the file was created since the last sync: its name is durable only with the directory's. */
  #created = false
  /**
   * Whether the store knows every copy its file holds for named snapshots (settle() ran): until
   * then (an open failing part-way) it never cuts or removes the file.
   */
  #settled = false

  constructor(fs: FileSystem, pageSize: number) {
    this.#fs = fs
    this.#pageSize = pageSize
  }

  get #location(): string {
    return `${this.#fs.location}/${SHARED_STORE_FILE}`
  }

  /** The store file, opened at first use; a store with no copies yet starts it empty unless `keep`. */
  #open(keep = false): BlockFile {
    if (!this.#file) {
      this.#created = !this.#fs.exists(SHARED_STORE_FILE)
      this.#file = this.#fs.open(SHARED_STORE_FILE, { create: true })
      if (!keep && this.#entries.size === 0) this.#file.truncate(0)
    }
    return this.#file
  }

  /** `count` consecutive slots: the lowest free slot for one, else the end of the file. */
  #allocate(count: number): number {
    if (count === 1) {
      const slot = this.#free.pop()
      if (slot !== undefined) {
        this.#freeSet.delete(slot)
        return slot
      }
    }
    const slot = this.#slots
    this.#slots += count
    return slot
  }

  #holdings(id: number): Holdings {
    let held = this.#held.get(id)
    if (!held) this.#held.set(id, (held = { pages: new Map(), values: new Map() }))
    return held
  }

  savePage(page: number, slot: Buffer, snapshots: readonly CowSnapshot[]): SavedCopy[] {
    const needing = snapshots.filter((s) => !this.has(s, page))
    if (needing.length === 0) return []
    const crc = copyChecksum(slot)
    const at = this.#allocate(1)
    this.#open().write(at * this.#pageSize, slot, 'preimage')
    this.#unsynced = true
    const entry: Entry = { slot: at, slots: 1, bytes: slot.length, refs: needing.length, page: { number: page, crc } }
    this.#entries.set(at, entry)
    for (const s of needing) this.#holdings(s.id).pages.set(page, entry)
    return needing.map((snapshot) => ({ snapshot, entry: { page, slot: at, crc } }))
  }

  saveValue(lsn: number, value: Buffer, snapshots: readonly CowSnapshot[]): void {
    if (snapshots.length === 0) return
    let entry = this.#values.get(lsn)
    if (!entry) {
      const framed = encodeSavedValue(value)
      const slots = Math.ceil(framed.length / this.#pageSize)
      const at = this.#allocate(slots)
      this.#open().write(at * this.#pageSize, framed, 'preimage')
      this.#unsynced = true
      entry = { slot: at, slots, bytes: framed.length, refs: 0, lsn }
      this.#entries.set(at, entry)
      this.#values.set(lsn, entry)
    }
    for (const s of snapshots) {
      const held = this.#holdings(s.id)
      if (held.values.has(lsn)) continue
      held.values.set(lsn, entry)
      entry.refs++
    }
  }

  async sync(): Promise<void> {
    if (!this.#unsynced || !this.#file) return
    this.#unsynced = false
    await this.#file.sync()
    if (this.#created) {
      this.#created = false
      await this.#fs.syncDirectory()
    }
  }

  has(snapshot: CowSnapshot, page: number): boolean {
    return this.#held.get(snapshot.id)?.pages.has(page) === true
  }

  readPage(snapshot: CowSnapshot, page: number): Buffer | undefined {
    const e = this.#held.get(snapshot.id)?.pages.get(page)
    if (!e || !this.#file) return undefined
    return this.#file.read(e.slot * this.#pageSize, this.#pageSize, 'page')
  }

  versionOf(snapshot: CowSnapshot, page: number): unknown {
    // One copy serves every snapshot that reads that version: the entry names it.
    return this.#held.get(snapshot.id)?.pages.get(page)
  }

  readValue(snapshot: CowSnapshot, lsn: number): Buffer | undefined {
    const e = this.#held.get(snapshot.id)?.values.get(lsn)
    if (!e || !this.#file) return undefined
    const offset = e.slot * this.#pageSize
    return decodeSavedValue(this.#file.read(offset, e.bytes, 'value'), this.#location, offset)
  }

  release(snapshot: CowSnapshot): void {
    this.#releaseId(snapshot.id)
    this.#trim()
  }

  #releaseId(id: number): void {
    const held = this.#held.get(id)
    if (!held) return
    this.#held.delete(id)
    for (const e of [...held.pages.values(), ...held.values.values()]) if (--e.refs === 0) this.#drop(e)
  }

  /** Forgets a copy no snapshot holds and frees its slots. */
  #drop(e: Entry): void {
    this.#entries.delete(e.slot)
    if (e.lsn !== undefined) this.#values.delete(e.lsn)
    for (let s = e.slot; s < e.slot + e.slots; s++) {
      this.#free.push(s)
      this.#freeSet.add(s)
    }
    this.#free.sort((a, b) => b - a)
  }

  /**
   * Cuts free slots off the end of the file. A cut that fails (the disk refuses) leaves them as
   * free slots: releasing never fails for want of space back.
   */
  #trim(): void {
    let slots = this.#slots
    while (slots > 0 && this.#freeSet.has(slots - 1)) slots--
    if (slots === this.#slots) return
    try {
      this.#file?.truncate(slots * this.#pageSize)
    } catch {
      return
    }
    for (let s = slots; s < this.#slots; s++) this.#freeSet.delete(s)
    this.#slots = slots
    this.#free = [...this.#freeSet].sort((a, b) => b - a)
  }

  adopt(snapshot: CowSnapshot, entries: Iterable<CopyEntry>): void {
    const held = this.#holdings(snapshot.id)
    for (const { page, slot, crc } of entries) {
      let e = this.#entries.get(slot)
      if (!e) {
        e = { slot, slots: 1, bytes: this.#pageSize, refs: 0, page: { number: page, crc } }
        this.#entries.set(slot, e)
      } else if (e.page?.number !== page || e.page.crc !== crc) {
        throw corruption(this.#location, slot * this.#pageSize, 'two copy lists name one slot for different copies')
      }
      if (held.pages.has(page)) throw corruption(this.#location, slot * this.#pageSize, `a copy list names page ${page} twice`)
      held.pages.set(page, e)
      e.refs++
    }
  }

  settle(): void {
    this.#settled = true
    this.#slots = 0
    for (const slot of this.#entries.keys()) this.#slots = Math.max(this.#slots, slot + 1)
    this.#freeSet.clear()
    for (let s = 0; s < this.#slots; s++) if (!this.#entries.has(s)) this.#freeSet.add(s)
    this.#free = [...this.#freeSet].sort((a, b) => b - a)
    if (this.#slots === 0) return
    const file = this.#open(true)
    if (file.size() < this.#slots * this.#pageSize) throw corruption(this.#location, file.size(), `the store ends before its ${this.#slots} slots`)
    // Slots past the last listed copy were written by a checkpoint cut short.
    if (file.size() > this.#slots * this.#pageSize) file.truncate(this.#slots * this.#pageSize)
  }

  repair(_id: number, entries: readonly CopyEntry[], readOld: (page: number) => Buffer): void {
    if (entries.length === 0) return
    for (const entry of entries) repairCopy(this.#open(true), entry, this.#pageSize, readOld, this.#location)
    // A copy that reads whole may still be unsynced (a sync that failed before a reopen): the
    // checkpoint about to be redone overwrites its page, so the copy is made durable first.
    this.#unsynced = true
    this.#created = true
  }

  bytes(): number {
    return this.#file?.size() ?? 0
  }

  sharedBytes(): number {
    return this.#file && this.#file.links() > 1 ? this.#file.size() : 0
  }

  bytesOf(snapshot: CowSnapshot): number {
    let total = 0
    const held = this.#held.get(snapshot.id)
    for (const e of [...(held?.pages.values() ?? []), ...(held?.values.values() ?? [])]) total += e.slots * this.#pageSize
    return total
  }

  exclusiveBytes(snapshot: CowSnapshot): number {
    let total = 0
    const held = this.#held.get(snapshot.id)
    for (const e of [...(held?.pages.values() ?? []), ...(held?.values.values() ?? [])]) if (e.refs === 1) total += e.slots * this.#pageSize
    return total
  }

  check(live: readonly CowSnapshot[]): string[] {
    const problems: string[] = []
    const ids = new Set(live.map((s) => s.id))
    const refs = new Map<Entry, number>()
    for (const [id, held] of this.#held) {
      if (!ids.has(id)) problems.push(`shared pre-image store holds copies for snapshot ${id}, which is not live`)
      for (const e of [...held.pages.values(), ...held.values.values()]) refs.set(e, (refs.get(e) ?? 0) + 1)
    }
    const owner = new Map<number, Entry>()
    for (const e of this.#entries.values()) {
      if ((refs.get(e) ?? 0) !== e.refs) problems.push(`shared pre-image at slot ${e.slot} counts ${e.refs} holders, ${refs.get(e) ?? 0} hold it`)
      for (let s = e.slot; s < e.slot + e.slots; s++) {
        if (owner.has(s)) problems.push(`shared pre-image slot ${s} holds two copies`)
        if (this.#freeSet.has(s)) problems.push(`shared pre-image slot ${s} is both used and free`)
        if (s >= this.#slots) problems.push(`shared pre-image slot ${s} lies past the store's end`)
        owner.set(s, e)
      }
    }
    if (owner.size + this.#freeSet.size !== this.#slots) problems.push(`shared pre-image store has ${this.#slots} slots, ${owner.size} used and ${this.#freeSet.size} free`)
    // The last slot may hold the end of a value, which need not fill it.
    const size = this.bytes()
    if (size > this.#slots * this.#pageSize || (this.#slots > 0 && size <= (this.#slots - 1) * this.#pageSize)) {
      problems.push(`shared pre-image store file is ${size} bytes for ${this.#slots} slots`)
    }
    return problems
  }

  close(keep: (id: number) => boolean): void {
    if (!this.#settled) {
      this.#file?.close()
      this.#file = undefined
      return
    }
    for (const id of [...this.#held.keys()]) if (!keep(id)) this.#releaseId(id)
    this.#trim()
    if (!this.#file) return
    this.#file.close()
    this.#file = undefined
    // A file left behind holds no listed copy: the next open removes it.
    if (this.#slots === 0) removeQuietly(this.#fs, SHARED_STORE_FILE)
  }
}
