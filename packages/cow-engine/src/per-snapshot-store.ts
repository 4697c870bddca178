import { type BlockFile, corruption, type FileSystem } from '@strata/storage'
import type { CopyEntry } from './catalogue.js'
import { copyChecksum, decodeSavedValue, encodeSavedValue, type PreimageStore, removeQuietly, repairCopy, type SavedCopy, snapshotFileName } from './preimage-store.js'
import type { CowSnapshot } from './snapshots.js'

/** One snapshot's store: an append-only file of page copies and values, with its index in memory. */
interface SnapshotFile {
  readonly id: number
  readonly name: string
  readonly file: BlockFile
  end: number
  /** Page number → offset of its copy. */
  readonly pages: Map<number, number>
  /** LSN → offset and framed length of the saved value. */
  readonly values: Map<number, { offset: number; bytes: number }>
}

/**
 * Classic LVM snapshots: each live snapshot has its own file, `snap-<id>.pre`, created at its
 * first copy, and gets its own copy of every page it needs. With k snapshots needing a page, its
 * first overwrite costs one read of the old page and k page writes. Releasing a snapshot deletes
 * its file. A named snapshot's file holds only page copies, one per page-sized slot, in the order
 * of its copy list, which is how the file is read back after a restart.
 */
export class PerSnapshotStore implements PreimageStore {
  readonly mode = 'per-snapshot' as const
  readonly #fs: FileSystem
  readonly #pageSize: number
  readonly #files = new Map<number, SnapshotFile>()
  readonly #unsynced = new Set<SnapshotFile>()
  /** Whether a file was created since the last sync: its name is durable only with the directory's. */
  #created = false

  constructor(fs: FileSystem, pageSize: number) {
    this.#fs = fs
    this.#pageSize = pageSize
  }

  #fileOf(id: number, fresh: boolean): SnapshotFile {
    let f = this.#files.get(id)
    if (!f) {
      const name = snapshotFileName(id)
      this.#created ||= !this.#fs.exists(name)
      f = { id, name, file: this.#fs.open(name, { create: true }), end: 0, pages: new Map(), values: new Map() }
      if (fresh) f.file.truncate(0)
      this.#files.set(id, f)
    }
    return f
  }

  savePage(page: number, slot: Buffer, snapshots: readonly CowSnapshot[]): SavedCopy[] {
    const saved: SavedCopy[] = []
    let crc: number | undefined
    for (const snapshot of snapshots) {
      const f = this.#fileOf(snapshot.id, true)
      if (f.pages.has(page)) continue
      crc ??= copyChecksum(slot)
      saved.push({ snapshot, entry: { page, slot: f.end / this.#pageSize, crc } })
      f.file.write(f.end, slot, 'preimage')
      f.pages.set(page, f.end)
      f.end += slot.length
      this.#unsynced.add(f)
    }
    return saved
  }

  saveValue(lsn: number, value: Buffer, snapshots: readonly CowSnapshot[]): void {
    const framed = encodeSavedValue(value)
    for (const snapshot of snapshots) {
      const f = this.#fileOf(snapshot.id, true)
      if (f.values.has(lsn)) continue
      f.file.write(f.end, framed, 'preimage')
      f.values.set(lsn, { offset: f.end, bytes: framed.length })
      f.end += framed.length
      this.#unsynced.add(f)
    }
  }

  async sync(): Promise<void> {
    const files = [...this.#unsynced]
    this.#unsynced.clear()
    for (const f of files) if (this.#files.get(f.id) === f) await f.file.sync()
    if (this.#created) {
      this.#created = false
      await this.#fs.syncDirectory()
    }
  }

  has(snapshot: CowSnapshot, page: number): boolean {
    return this.#files.get(snapshot.id)?.pages.has(page) === true
  }

  readPage(snapshot: CowSnapshot, page: number): Buffer | undefined {
    const f = this.#files.get(snapshot.id)
    const offset = f?.pages.get(page)
    if (f === undefined || offset === undefined) return undefined
    return f.file.read(offset, this.#pageSize, 'page')
  }

  versionOf(snapshot: CowSnapshot, page: number): unknown {
    // Every copy is one snapshot's own, so a copy is named by its snapshot and page.
    return this.has(snapshot, page) ? `${snapshot.id}:${page}` : undefined
  }

  readValue(snapshot: CowSnapshot, lsn: number): Buffer | undefined {
    const f = this.#files.get(snapshot.id)
    const at = f?.values.get(lsn)
    if (f === undefined || at === undefined) return undefined
    return decodeSavedValue(f.file.read(at.offset, at.bytes, 'value'), `${this.#fs.location}/${f.name}`, at.offset)
  }

  release(snapshot: CowSnapshot): void {
    const f = this.#files.get(snapshot.id)
    if (!f) return
    this.#files.delete(snapshot.id)
    this.#unsynced.delete(f)
    f.file.close()
    // A file left behind belongs to no named snapshot: the next open removes it.
    removeQuietly(this.#fs, f.name)
  }

  adopt(snapshot: CowSnapshot, entries: Iterable<CopyEntry>): void {
    const list = [...entries]
    if (list.length === 0) return
    const location = `${this.#fs.location}/${snapshotFileName(snapshot.id)}`
    if (!this.#fs.exists(snapshotFileName(snapshot.id))) throw corruption(location, 0, `the store of a named snapshot holding ${list.length} copies is missing`)
    const f = this.#fileOf(snapshot.id, false)
    list.forEach((entry, i) => {
      if (entry.slot !== i || f.pages.has(entry.page)) throw corruption(location, entry.slot * this.#pageSize, 'copy list does not match its per-snapshot store')
      f.pages.set(entry.page, entry.slot * this.#pageSize)
    })
    f.end = list.length * this.#pageSize
    if (f.file.size() < f.end) throw corruption(location, f.file.size(), `the store ends before its ${list.length} copies`)
  }

  settle(): void {
    // Copies past a named snapshot's list were made by a checkpoint cut short: cut them off.
    for (const f of this.#files.values()) if (f.file.size() > f.end) f.file.truncate(f.end)
  }

  repair(id: number, entries: readonly CopyEntry[], readOld: (page: number) => Buffer): void {
    if (entries.length === 0) return
    const f = this.#fileOf(id, false)
    for (const entry of entries) repairCopy(f.file, entry, this.#pageSize, readOld, `${this.#fs.location}/${f.name}`)
    // A copy that reads whole may still be unsynced (a sync that failed before a reopen): the
    // checkpoint about to be redone overwrites its page, so the copy is made durable first.
    this.#unsynced.add(f)
    this.#created = true
  }

  bytes(): number {
    let total = 0
    for (const f of this.#files.values()) total += f.end
    return total
  }

  sharedBytes(): number {
    let total = 0
    for (const f of this.#files.values()) if (f.file.links() > 1) total += f.end
    return total
  }

  bytesOf(snapshot: CowSnapshot): number {
    return this.#files.get(snapshot.id)?.end ?? 0
  }

  exclusiveBytes(snapshot: CowSnapshot): number {
    return this.bytesOf(snapshot)
  }

  check(live: readonly CowSnapshot[]): string[] {
    const problems: string[] = []
    const ids = new Set(live.map((s) => s.id))
    for (const [id, f] of this.#files) {
      if (!ids.has(id)) problems.push(`pre-image file ${f.name} belongs to no live snapshot`)
      if (f.file.size() !== f.end) problems.push(`pre-image file ${f.name} is ${f.file.size()} bytes, its index covers ${f.end}`)
      let indexed = f.pages.size * this.#pageSize
      for (const v of f.values.values()) indexed += v.bytes
      if (indexed !== f.end) problems.push(`pre-image file ${f.name} holds ${f.end} bytes, its copies ${indexed}`)
    }
    return problems
  }

  close(keep: (id: number) => boolean): void {
    for (const f of this.#files.values()) {
      f.file.close()
      if (!keep(f.id)) removeQuietly(this.#fs, f.name)
    }
    this.#files.clear()
    this.#unsynced.clear()
  }
}
