import { corruption, readU64, writeU64 } from '@strata/storage'
import type { SlotReader } from './overflow.js'
import { CATALOGUE_KIND, type ChainWrite, chainCapacity, COPY_LIST_KIND, PageChain, readChain } from './page-chain.js'
import type { StoreMode } from './preimage-store.js'

/** Where a pre-image store keeps one copy of a page: its slot in the store file, and the copy's CRC-32. */
export interface CopyEntry {
  page: number
  /** Page-sized slot of the store file (per-snapshot: the snapshot's file; shared: preimages.db). */
  slot: number
  /** CRC-32 of the whole copied slot, so recovery can tell a copy cut short by a crash. */
  crc: number
}

/** Bytes of one copy-list entry: u32 page, u32 slot, u32 CRC-32. */
const ENTRY_BYTES = 12

/**
 * The pages a named snapshot has had copied to its store, as a list on a chain of pages that only
 * grows (each checkpoint appends the copies it made for the snapshot).
 */
export class CopyList {
  readonly chain: PageChain
  #buffer: Buffer
  #length: number
  /** Bytes of the list already on the chain. */
  #written: number

  constructor(pageSize: number, contents?: { bytes: Buffer; pages: number[] }) {
    this.chain = new PageChain(COPY_LIST_KIND, pageSize, contents)
    this.#buffer = Buffer.from(contents?.bytes ?? Buffer.alloc(0))
    this.#length = this.#buffer.length
    this.#written = this.#length
    if (this.#length % ENTRY_BYTES !== 0) throw new RangeError('a copy list holds whole entries')
  }

  /** How many copies the list holds. */
  get count(): number {
    return this.#length / ENTRY_BYTES
  }

  /** Entry `i`. */
  at(i: number): CopyEntry {
    const at = i * ENTRY_BYTES
    return { page: this.#buffer.readUInt32LE(at), slot: this.#buffer.readUInt32LE(at + 4), crc: this.#buffer.readUInt32LE(at + 8) }
  }

  *entries(): Generator<CopyEntry> {
    for (let i = 0; i < this.count; i++) yield this.at(i)
  }

  /** Appends a copy made for the snapshot; it reaches the chain at the next checkpoint. */
  add(entry: CopyEntry): void {
    if (this.#length + ENTRY_BYTES > this.#buffer.length) {
      const grown = Buffer.alloc(Math.max(256, this.#buffer.length * 2))
      this.#buffer.copy(grown, 0, 0, this.#length)
      this.#buffer = grown
    }
    this.#buffer.writeUInt32LE(entry.page, this.#length)
    this.#buffer.writeUInt32LE(entry.slot, this.#length + 4)
    this.#buffer.writeUInt32LE(entry.crc >>> 0, this.#length + 8)
    this.#length += ENTRY_BYTES
  }

  /** The chain pages to write so that the chain holds the whole list. */
  write(allocate: () => number, free: (page: number) => void, headroom: number): ChainWrite[] {
    const writes = this.chain.rewrite(this.#buffer.subarray(0, this.#length), allocate, free, headroom, this.#written)
    this.#written = this.#length
    return writes
  }

  /** The entries stored, wholly or in part, on the chain pages in `pages`. */
  entriesOnPages(pages: ReadonlySet<number>): CopyEntry[] {
    const capacity = chainCapacity(this.chain.pageSize)
    const out: CopyEntry[] = []
    for (let i = 0; i < this.count; i++) {
      const first = Math.floor((i * ENTRY_BYTES) / capacity)
      const last = Math.floor((i * ENTRY_BYTES + ENTRY_BYTES - 1) / capacity)
      if (pages.has(this.chain.pages[first] as number) || pages.has(this.chain.pages[last] as number)) out.push(this.at(i))
    }
    return out
  }
}

/** A named snapshot as the catalogue records it. */
export interface NamedRecord {
  name: string
  /** Its number: names its store file (snap-<id>.pre) and its holds in the shared store. */
  id: number
  /** The sequence number of the last batch its state holds. */
  seq: number
  /** Milliseconds since the epoch. */
  createdAt: number
  meta: Buffer
  /** The root page of its tree, as pages.db held it at its checkpoint. */
  root: number
  /** Key and value bytes of its entries. */
  dataBytes: number
  /** The copies its store holds. */
  list: CopyList
}

/**
 * The named snapshot catalogue (docs/format.md §Snapshot catalogue): one record per durable named
 * snapshot, on a chain of pages named by the meta, plus each snapshot's copy list. It changes only
 * at checkpoints, so a snapshot is created, deleted or restored by the checkpoint whose meta names
 * the new catalogue.
 */
export class Catalogue {
  readonly #pageSize: number
  readonly chain: PageChain
  /** The store mode the snapshots' copies are kept in; fixed while the catalogue has snapshots. */
  mode: StoreMode | undefined
  readonly records = new Map<string, NamedRecord>()
  /** Copy lists of deleted snapshots, whose pages the next write gives back. */
  #dropped: CopyList[] = []

  constructor(pageSize: number, chain = new PageChain(CATALOGUE_KIND, pageSize)) {
    this.#pageSize = pageSize
    this.chain = chain
  }

  /** Reads the catalogue whose chain starts at `head` (0: none) through `read`. */
  static read(read: SlotReader, head: number, pageCount: number, pageSize: number, location: string): Catalogue {
    const contents = readChain(read, head, CATALOGUE_KIND, pageCount, pageSize, location)
    const catalogue = new Catalogue(pageSize, new PageChain(CATALOGUE_KIND, pageSize, contents))
    const bytes = contents.bytes
    if (bytes.length === 0) return catalogue
    const bad = () => corruption(location, head * pageSize, 'malformed snapshot catalogue')
    let at = 0
    const need = (n: number) => {
      if (at + n > bytes.length) throw bad()
    }
    need(8)
    const mode = bytes.readUInt8(0)
    if (mode !== 1 && mode !== 2) throw bad()
    catalogue.mode = mode === 1 ? 'per-snapshot' : 'shared'
    const count = bytes.readUInt32LE(4)
    at = 8
    for (let i = 0; i < count; i++) {
      need(38)
      const id = bytes.readUInt32LE(at)
      const seq = readU64(bytes, at + 4)
      const createdAt = readU64(bytes, at + 12)
      const root = bytes.readUInt32LE(at + 20)
      const dataBytes = readU64(bytes, at + 24)
      const listHead = bytes.readUInt32LE(at + 32)
      const nameLength = bytes.readUInt16LE(at + 36)
      at += 38
      need(nameLength + 4)
      const name = bytes.toString('utf8', at, at + nameLength)
      at += nameLength
      const metaLength = bytes.readUInt32LE(at)
      at += 4
      need(metaLength)
      const meta = Buffer.from(bytes.subarray(at, at + metaLength))
      at += metaLength
      const list = new CopyList(pageSize, readChain(read, listHead, COPY_LIST_KIND, pageCount, pageSize, location))
      if (list.chain.bytes.length % ENTRY_BYTES !== 0 || catalogue.records.has(name)) throw bad()
      catalogue.records.set(name, { name, id, seq, createdAt, meta, root, dataBytes, list })
    }
    if (at !== bytes.length) throw bad()
    return catalogue
  }

  /** Adds the record of a new named snapshot (durable once a checkpoint writes the catalogue). */
  add(record: Omit<NamedRecord, 'list'>): NamedRecord {
    const named = { ...record, list: new CopyList(this.#pageSize) }
    this.records.set(record.name, named)
    return named
  }

  /** Removes a record; its copy list's pages go back at the next write. */
  drop(name: string): void {
    const record = this.records.get(name)
    if (!record) return
    this.records.delete(name)
    this.#dropped.push(record.list)
  }

  /** Takes back a record `drop` removed (the deletion failed): as far as memory goes, nothing happened. */
  undrop(record: NamedRecord): void {
    this.records.set(record.name, record)
    this.#dropped = this.#dropped.filter((list) => list !== record.list)
  }

  /** The pages the catalogue and every copy list occupy. */
  pages(): number[] {
    const pages = [...this.chain.pages]
    for (const r of this.records.values()) pages.push(...r.list.chain.pages)
    for (const list of this.#dropped) pages.push(...list.chain.pages)
    return pages
  }

  /**
   * The chain pages to write so that pages.db holds the catalogue as it is now: each copy list's
   * new tail, then the catalogue itself if its bytes changed. Pages of dropped lists are given back.
   */
  write(allocate: () => number, free: (page: number) => void, headroom: number): ChainWrite[] {
    for (const list of this.#dropped.splice(0)) for (const page of list.chain.pages) free(page)
    const writes: ChainWrite[] = []
    for (const r of this.records.values()) writes.push(...r.list.write(allocate, free, headroom))
    writes.push(...this.chain.rewrite(this.#encode(), allocate, free, headroom))
    return writes
  }

  /** The catalogue stream: mode, count, then each record, in name order. */
  #encode(): Buffer {
    if (this.records.size === 0) return Buffer.alloc(0)
    const records = [...this.records.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const parts: Buffer[] = []
    const head = Buffer.alloc(8)
    head.writeUInt8(this.mode === 'shared' ? 2 : 1, 0)
    head.writeUInt32LE(records.length, 4)
    parts.push(head)
    for (const r of records) {
      const name = Buffer.from(r.name, 'utf8')
      const fixed = Buffer.alloc(38)
      fixed.writeUInt32LE(r.id, 0)
      writeU64(fixed, r.seq, 4)
      writeU64(fixed, r.createdAt, 12)
      fixed.writeUInt32LE(r.root, 20)
      writeU64(fixed, r.dataBytes, 24)
      fixed.writeUInt32LE(r.list.chain.head, 32)
      fixed.writeUInt16LE(name.length, 36)
      const metaLength = Buffer.alloc(4)
      metaLength.writeUInt32LE(r.meta.length, 0)
      parts.push(fixed, name, metaLength, r.meta)
    }
    return Buffer.concat(parts)
  }
}
