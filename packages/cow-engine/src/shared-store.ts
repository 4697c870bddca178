import type { BlockFile, FileSystem } from '@strata/storage'
import type { EpochRange } from './page-table.js'
import { decodeSavedValue, encodeSavedValue, type PreimageStore } from './preimage-store.js'
import type { CowSnapshot } from './snapshots.js'

/** One copy in the shared store: a page version or a saved value, in `slots` consecutive slots. */
interface Entry {
  readonly slot: number
  readonly slots: number
  /** Bytes written: a page, or a framed value. */
  readonly bytes: number
  /** Live snapshots that hold this copy. */
  refs: number
  /** For a page copy: the page and the epochs whose snapshots read this version of it. */
  readonly page?: { number: number; range: EpochRange }
  /** For a saved value: the LSN of the VALUE record it came from. */
  readonly lsn?: number
}

/** The file of the shared store. */
export const SHARED_STORE_FILE = 'preimages.db'

/**
 * One pre-image store for all snapshots, `preimages.db`, in page-sized slots. A page version is
 * copied once however many snapshots need it; each snapshot holds references to the copies it
 * reads, and a copy goes when the last snapshot holding it is released. Freed slots are reused by
 * later copies, and free slots at the end of the file are cut off.
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
  readonly #pages = new Map<number, Entry[]>()
  readonly #values = new Map<number, Entry>()
  /** Snapshot id → the copies it holds. */
  readonly #held = new Map<number, Set<Entry>>()
  #unsynced = false

  constructor(fs: FileSystem, pageSize: number) {
    this.#fs = fs
    this.#pageSize = pageSize
  }

  #open(): BlockFile {
    if (!this.#file) {
      this.#file = this.#fs.open(SHARED_STORE_FILE, { create: true })
      this.#file.truncate(0)
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

  #hold(entry: Entry, snapshots: readonly CowSnapshot[]): void {
    for (const snapshot of snapshots) {
      let held = this.#held.get(snapshot.id)
      if (!held) this.#held.set(snapshot.id, (held = new Set()))
      if (held.has(entry)) continue
      held.add(entry)
      entry.refs++
    }
  }

  savePage(page: number, range: EpochRange, slot: Buffer, snapshots: readonly CowSnapshot[]): void {
    if (snapshots.length === 0) return
    const versions = this.#pages.get(page) ?? []
    let entry = versions.find((e) => e.page?.range.from === range.from)
    if (!entry) {
      const at = this.#allocate(1)
      this.#open().write(at * this.#pageSize, slot, 'preimage')
      this.#unsynced = true
      entry = { slot: at, slots: 1, bytes: slot.length, refs: 0, page: { number: page, range } }
      versions.push(entry)
      this.#pages.set(page, versions)
    }
    this.#hold(entry, snapshots)
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
      this.#values.set(lsn, entry)
    }
    this.#hold(entry, snapshots)
  }

  async sync(): Promise<void> {
    if (!this.#unsynced || !this.#file) return
    this.#unsynced = false
    await this.#file.sync()
  }

  readPage(snapshot: CowSnapshot, page: number): Buffer | undefined {
    const held = this.#held.get(snapshot.id)
    if (!held || !this.#file) return undefined
    for (const e of this.#pages.get(page) ?? []) {
      const range = e.page?.range
      if (range && range.from <= snapshot.epoch && snapshot.epoch < range.to && held.has(e)) return this.#file.read(e.slot * this.#pageSize, this.#pageSize, 'page')
    }
    return undefined
  }

  readValue(snapshot: CowSnapshot, lsn: number): Buffer | undefined {
    const e = this.#values.get(lsn)
    if (!e || !this.#file || !this.#held.get(snapshot.id)?.has(e)) return undefined
    const offset = e.slot * this.#pageSize
    return decodeSavedValue(this.#file.read(offset, e.bytes, 'value'), `${this.#fs.location}/${SHARED_STORE_FILE}`, offset)
  }

  release(snapshot: CowSnapshot): void {
    const held = this.#held.get(snapshot.id)
    if (!held) return
    this.#held.delete(snapshot.id)
    for (const e of held) if (--e.refs === 0) this.#drop(e)
    this.#trim()
  }

  /** Forgets a copy no snapshot holds and frees its slots. */
  #drop(e: Entry): void {
    if (e.page) {
      const versions = (this.#pages.get(e.page.number) ?? []).filter((v) => v !== e)
      if (versions.length > 0) this.#pages.set(e.page.number, versions)
      else this.#pages.delete(e.page.number)
    }
    if (e.lsn !== undefined) this.#values.delete(e.lsn)
    for (let s = e.slot; s < e.slot + e.slots; s++) {
      this.#free.push(s)
      this.#freeSet.add(s)
    }
  }

  /** Cuts free slots off the end of the file. */
  #trim(): void {
    const before = this.#slots
    while (this.#slots > 0 && this.#freeSet.has(this.#slots - 1)) this.#freeSet.delete(--this.#slots)
    this.#free = [...this.#freeSet].sort((a, b) => b - a)
    if (this.#slots < before) this.#file?.truncate(this.#slots * this.#pageSize)
  }

  bytes(): number {
    return this.#file?.size() ?? 0
  }

  bytesOf(snapshot: CowSnapshot): number {
    let total = 0
    for (const e of this.#held.get(snapshot.id) ?? []) total += e.slots * this.#pageSize
    return total
  }

  check(live: readonly CowSnapshot[]): string[] {
    const problems: string[] = []
    const ids = new Set(live.map((s) => s.id))
    const refs = new Map<Entry, number>()
    for (const [id, held] of this.#held) {
      if (!ids.has(id)) problems.push(`shared pre-image store holds copies for snapshot ${id}, which is not live`)
      for (const e of held) refs.set(e, (refs.get(e) ?? 0) + 1)
    }
    const entries = [...[...this.#pages.values()].flat(), ...this.#values.values()]
    const owner = new Map<number, Entry>()
    for (const e of entries) {
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

  close(): void {
    if (!this.#file) return
    this.#file.close()
    this.#fs.remove(SHARED_STORE_FILE)
    this.#file = undefined
  }
}
